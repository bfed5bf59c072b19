"""Benchmark whole calls: N scripted calls at once in one worker process, codes on Redis.

Each call is a real AgentSession with a scripted model (the same calls as
`tests/load/test_concurrent_calls.py`: identify, request a code, one wrong code, the right
code, a refused try at a neighbour's appointment, cancel or reschedule), sharing one
ClinicDB (SQLite), one OtpService on a private redis-server, and the real Twilio SDK against
the local Twilio stand-in. Prints calls per second and p50/p99 latency of `request_otp` and
`verify_otp`, measured two ways:

* tool: from the model's function-call item to the tool's output item (both `created_at`
  stamps, as the session's `function_tools_executed` event reports them), i.e. what the call
  waited for the tool, including event-loop queueing behind the other calls;
* service: wall time inside `OtpService.request_code` / `verify_code` (a thin timing
  subclass), i.e. the store, directory and SMS work alone.

    uv run python bench/calls.py [--calls 200] [--sms-delay 0.0] [--shared-slots 5]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clinic import ClinicDB
from tests.support.load_checks import ended_right
from tests.support.load_scenario import load_services, populate, run_calls
from tests.support.redis_server import RedisServer
from tests.support.stats import p50_p99
from tests.support.twilio_standin import TwilioStandIn
from verification import OtpService, RequestOutcome, VerifyOutcome


class TimedOtpService(OtpService):
    """OtpService that records how long each request_code / verify_code took."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.timings: dict[str, list[float]] = {"request_code": [], "verify_code": []}

    async def request_code(self, phone: str, **options: Any) -> RequestOutcome:
        started = time.perf_counter()
        try:
            return await super().request_code(phone, **options)
        finally:
            self.timings["request_code"].append(time.perf_counter() - started)

    async def verify_code(self, phone: str, code: str, **options: Any) -> VerifyOutcome:
        started = time.perf_counter()
        try:
            return await super().verify_code(phone, code, **options)
        finally:
            self.timings["verify_code"].append(time.perf_counter() - started)


async def main(calls: int, sms_delay: float, shared_slots: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="calls-bench-"))
    server = RedisServer(tmp / "redis")
    server.start()
    clinic = ClinicDB(tmp / "clinic.sqlite3")
    twilio = TwilioStandIn(delay=sms_delay)
    await twilio.start()
    try:
        services = load_services(
            clinic, server.url, "bench-calls", twilio, otp_class=TimedOtpService
        )
        otp = services.otp
        assert isinstance(otp, TimedOtpService)
        callers = await populate(clinic, calls, shared_slots=shared_slots)
        started = time.perf_counter()
        results = await run_calls(services, callers, twilio)
        elapsed = time.perf_counter() - started
        await services.aclose()
    finally:
        await twilio.stop()
        server.stop()

    ok = sum(ended_right(r) and r.grants == {r.caller.patient_id: 2} for r in results)
    texts = len(twilio.requests)
    steps = [s for r in results for s in r.steps]
    print(
        f"{calls} concurrent scripted calls, 1 process, Redis codes, Twilio stand-in "
        f"answering after {sms_delay * 1000:.0f} ms"
    )
    print(
        f"  ended in the right state: {ok}/{calls}; texts sent: {texts}; tool steps: {len(steps)}"
    )
    print(
        f"  wall time {elapsed:.2f} s  ->  {calls / elapsed:.1f} calls/s "
        f"(call length p50/p99: {p50_p99([r.seconds for r in results])})"
    )
    print("  tool latency (function_call -> function_call_output created_at):")
    for tool in ("request_otp", "verify_otp"):
        values = [s.latency for s in steps if s.tool == tool]
        print(f"    {tool:<12} n={len(values):<4} {p50_p99(values)}")
    print("  service latency (wall time inside OtpService, thin timing subclass):")
    for name, values in otp.timings.items():
        print(f"    {name:<12} n={len(values):<4} {p50_p99(values)}")


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)  # the audit trail is not what is measured here
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--sms-delay", type=float, default=0.0, help="stand-in answer delay, s")
    parser.add_argument("--shared-slots", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.sms_delay, args.shared_slots))
