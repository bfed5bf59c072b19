"""Benchmark enumeration resistance (rule 6): can a caller tell a patient's number from a
stranger's by what `request_code` / `verify_code` answer, or by how long they take?

Measured through `OtpService` (the agent's `request_otp` / `verify_otp` tools return the
outcome's `message` unchanged for these statuses, so the sentences are the same), with codes on
a private redis-server and the real `ClinicDB` as the phone directory. Each try uses a fresh
session id and a fresh pair of numbers with the same last four digits, one on file
(+1 212 552 xxxx) and one not (+1 212 553 xxxx), so the masked numbers in the sentences match
and no cooldown or send limit is involved. A try is `request_code` then one wrong guess.

Three set-ups: (a) console SMS sender (instant), then the real Twilio SDK against the local
Twilio stand-in answering after (b) 0.2 s and (c) 3 s. `request_code` answers once the
challenge is stored and the text goes out in the background, so neither the answer nor its
timing should depend on the provider or on whether the number is on file (goal: p99 under
50 ms whatever the provider). The stand-in runs on a thread with its own event loop, as a
provider runs elsewhere; the SDK's side of each send runs on the measured loop, as it does
in a worker.

    uv run python bench/enumeration.py [--tries 200] [--delays 0.2,3]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clinic import ClinicDB
from tests.support.redis_server import RedisServer
from tests.support.standin_server import OnItsOwnLoop
from tests.support.twilio_standin import TWILIO_SID, TWILIO_TOKEN, TwilioStandIn
from verification import (
    ConsoleSmsSender,
    OtpPolicy,
    OtpService,
    RedisOtpStore,
    SmsSender,
    TwilioSmsSender,
    normalize_phone,
)

PEPPER = b"bench-enum-pepper-0123456789abcdef"
POLICY = OtpPolicy(resend_cooldown_seconds=0, max_sends=10**6, max_failures=10**6)
ON_FILE_EXCHANGE, NOT_ON_FILE_EXCHANGE = 552, 553


def phone(exchange: int, index: int) -> str:
    return normalize_phone(f"212 {exchange} {index:04d}")


@dataclass
class Timings:
    request: list[float] = field(default_factory=list)
    verify: list[float] = field(default_factory=list)


# Wrong for a real code with p = 1 - 1e-6 (the text may not have gone out yet when we guess,
# so the bench cannot read it first); a "verified" would show as a mismatch.
GUESS = "000000"


async def one_try(
    svc: OtpService, e164: str, session_id: str, into: Timings
) -> tuple[tuple[str, str], tuple[str, str, int | None]]:
    started = time.perf_counter()
    requested = await svc.request_code(e164, session_id=session_id)
    into.request.append(time.perf_counter() - started)
    guess = GUESS
    started = time.perf_counter()
    verified = await svc.verify_code(e164, guess, session_id=session_id)
    into.verify.append(time.perf_counter() - started)
    return (requested.status, requested.message), (
        verified.status,
        verified.message,
        verified.attempts_left,
    )


async def same_answers(svc: OtpService, label: str) -> None:
    """A whole decoy conversation sounds like a real one: send, three wrong guesses, one more."""
    transcripts = []
    for exchange in (ON_FILE_EXCHANGE, NOT_ON_FILE_EXCHANGE):
        e164 = phone(exchange, 9999)
        session = f"{label}-seq-{exchange}"
        said = [(await svc.request_code(e164, session_id=session)).message]
        for _ in range(4):
            outcome = await svc.verify_code(e164, GUESS, session_id=session)
            said.append(f"{outcome.status}|{outcome.attempts_left}|{outcome.message}")
        transcripts.append(said)
    assert transcripts[0] == transcripts[1], transcripts
    steps = " -> ".join(
        step.split("|")[0] + (f"({step.split('|')[1]} left)" if "wrong" in step else "")
        for step in transcripts[0][1:]
    )
    print(f"  on file and not: identical sentences for send -> {steps}")


def stats(values: list[float]) -> tuple[float, float]:
    """Median and p99, in milliseconds."""
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return statistics.median(values) * 1000, cuts[98] * 1000


async def run_setup(
    label: str,
    sender: SmsSender,
    clinic: ClinicDB,
    redis_url: str,
    tries: int,
    concurrency: int,
) -> None:
    svc = OtpService(
        RedisOtpStore.from_url(redis_url, key_prefix=f"enum-{label}"),
        sender,
        clinic,
        POLICY,
        pepper=PEPPER,
        clinic_name="Bayview Clinic",
    )
    await same_answers(svc, label)
    real, decoy = Timings(), Timings()
    limit = asyncio.Semaphore(concurrency)
    mismatches = 0

    async def pair(i: int) -> None:
        nonlocal mismatches
        async with limit:
            # alternate which goes first, so neither side always sees a warmer loop
            order = [(ON_FILE_EXCHANGE, real), (NOT_ON_FILE_EXCHANGE, decoy)][:: 1 - 2 * (i % 2)]
            answers = {}
            for exchange, into in order:
                answers[exchange] = await one_try(
                    svc, phone(exchange, i), f"{label}-{i}-{exchange}", into
                )
            mismatches += answers[ON_FILE_EXCHANGE] != answers[NOT_ON_FILE_EXCHANGE]

    await asyncio.gather(*(pair(i) for i in range(tries)))
    drained = time.perf_counter()
    await svc.aclose()  # waits for the background sends
    print(f"  outcomes and sentences identical in {tries - mismatches}/{tries} tries")
    print(f"  background sends still running at the end: drained in "
          f"{(time.perf_counter() - drained) * 1000:.0f} ms")  # fmt: skip
    assert mismatches == 0
    for what, on, off in (
        ("request_code", real.request, decoy.request),
        ("verify_code ", real.verify, decoy.verify),
    ):
        (m_on, p_on), (m_off, p_off) = stats(on), stats(off)
        print(
            f"  {what} on file: p50 {m_on:6.2f} p99 {p_on:6.2f} ms | not on file: p50 "
            f"{m_off:6.2f} p99 {p_off:6.2f} ms | gap: p50 {m_on - m_off:+6.2f} "
            f"p99 {p_on - p_off:+6.2f} ms"
        )
    (_, p99_on), (_, p99_off) = stats(real.request), stats(decoy.request)
    print(f"  request_code p99 under 50 ms: {max(p99_on, p99_off) < 50}")


async def main(tries: int, delays: list[float], concurrency: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="enum-bench-"))
    server = RedisServer(tmp / "redis")
    server.start()
    clinic = ClinicDB(tmp / "clinic.sqlite3")
    try:
        for i in [*range(tries), 9999]:
            await clinic.add_patient(
                f"Patient Number {i}", date(1980, 1, 1), phone(ON_FILE_EXCHANGE, i)
            )
        print(f"{tries} tries per number kind, {concurrency} pairs in flight, through OtpService")
        print("(a) console sender (instant)")
        await run_setup(
            "a", ConsoleSmsSender(io.StringIO()), clinic, server.url, tries, concurrency
        )
        for index, delay in enumerate(delays):
            async with OnItsOwnLoop(TwilioStandIn(delay=delay)) as twilio:
                label = "bcdefgh"[index]
                print(f"({label}) Twilio SDK -> stand-in answering after {delay * 1000:.0f} ms")
                sender = TwilioSmsSender(
                    TWILIO_SID, TWILIO_TOKEN, "+14155550100", base_url=twilio.url, timeout=10
                )
                await run_setup(label, sender, clinic, server.url, tries, concurrency)
                texted = {r.form.get("To", "") for r in twilio.requests}
                on_file = {phone(ON_FILE_EXCHANGE, i) for i in [*range(tries), 9999]}
                print(
                    f"  texts the stand-in received: {len(twilio.requests)}, "
                    f"all to numbers on file: {texted <= on_file}"
                )
                assert texted <= on_file
    finally:
        await clinic.aclose()
        server.stop()


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)  # the audit trail is not what is measured here
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=200)
    parser.add_argument("--delays", default="0.2,3", help="provider answer times, seconds")
    parser.add_argument("--concurrency", type=int, default=10, help="pairs in flight at once")
    args = parser.parse_args()
    delays = [float(part) for part in args.delays.split(",") if part.strip()]
    asyncio.run(main(args.tries, delays, args.concurrency))
