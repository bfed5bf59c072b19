"""Print what an LLM request spends on tool schemas, built per request (LiveKit) or once.

Per request, the OpenAI plugin turns the tools into JSON: `llm.ToolContext(tools)
.parse_function_tools("openai", strict=...)`. For a `FunctionTool` that builds a pydantic model
from the signature, then its (strict) JSON schema, every time; a tool from
`verification.livekit.with_prebuilt_schemas` carries the schema it was built with once. The
tools are the clinic call's: `ClinicAgent`'s own and the `OtpToolset`'s. Both ways are timed in
the same run, interleaved, and the figure is the median of the rounds; the JSON is checked to
be identical first. Last, what each call spends making its agent and toolset, whose tools are
prebuilt: with each tool's schema built for that call, or once per process (`schemas.py`
keeps them by function).

    uv run python bench/tool_schemas.py [--rounds 7] [--requests 200]
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livekit.agents import llm

from agent import ClinicAgent
from tests.support.sms import StaticDirectory
from verification import ConsoleSmsSender, OtpService, SqliteOtpStore
from verification.livekit import OtpToolset, schemas, with_prebuilt_schemas

Tools = Sequence[llm.Tool | llm.Toolset]


def per_request(tools: Tools, strict: bool, requests: int) -> float:
    """Seconds one request spends turning `tools` into the JSON it sends."""
    start = time.perf_counter()
    for _ in range(requests):
        llm.ToolContext(list(tools)).parse_function_tools("openai", strict=strict)
    return (time.perf_counter() - start) / requests


def service(tmp: str) -> OtpService:
    return OtpService(
        SqliteOtpStore(Path(tmp) / "otp.sqlite3"),  # never opened: only schemas are read
        ConsoleSmsSender(),
        StaticDirectory(set()),
        pepper=b"tool-schemas-bench-pepper",
    )


def clinic_tools(otp: OtpService) -> list[llm.FunctionTool[..., Any]]:
    """The clinic call's tools as LiveKit builds them: the agent's and the toolset's methods."""
    return [
        *methods(ClinicAgent(clinic_name="Bayview Clinic")),
        *methods(OtpToolset(otp, session_id="bench")),
    ]


def per_call(otp: OtpService, calls: int, *, forget: bool) -> float:
    """Seconds a call spends making its agent and OTP toolset (both prebuild their tools);
    `forget`: with the built schemas forgotten first, as if each call built its own."""
    total = 0.0
    for _ in range(calls):
        if forget:
            schemas._BUILT.clear()
        start = time.perf_counter()
        ClinicAgent(clinic_name="Bayview Clinic")
        OtpToolset(otp, session_id="bench")
        total += time.perf_counter() - start
    return total / calls


def methods(owner: object) -> list[llm.FunctionTool[..., Any]]:
    """`owner`'s tool methods, bound, as LiveKit finds them (read from its class: an agent's
    own properties refuse to be read before it runs)."""
    found = inspect.getmembers(type(owner), lambda member: isinstance(member, llm.FunctionTool))
    return [tool.__get__(owner, type(owner)) for _, tool in found]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        otp = service(tmp)
        livekits = clinic_tools(otp)
    print(f"tools: {len(livekits)} ({', '.join(sorted(t.info.name for t in livekits))})")
    for strict in (True, False):
        prebuilt = with_prebuilt_schemas(livekits, strict=strict)
        same = json.dumps(llm.ToolContext(prebuilt).parse_function_tools("openai", strict=strict))
        assert same == json.dumps(
            llm.ToolContext(list(livekits)).parse_function_tools("openai", strict=strict)
        ), "the prebuilt tools JSON differs from LiveKit's"
        before, after = [], []
        for _ in range(args.rounds):
            before.append(per_request(livekits, strict, args.requests))
            after.append(per_request(prebuilt, strict, args.requests))
        b, a = statistics.median(before), statistics.median(after)
        mode = "strict" if strict else "non-strict"
        print(
            f"{mode:>10}: per request {b * 1e3:7.3f} ms built by LiveKit, "
            f"{a * 1e3:7.3f} ms prebuilt: {a / b:.3f}x ({b / a:.0f}x faster), "
            "tools JSON identical"
        )
    every, once = [], []
    for _ in range(args.rounds):
        every.append(per_call(otp, 20, forget=True))
        once.append(per_call(otp, 20, forget=False))
    e, o = statistics.median(every), statistics.median(once)
    print(
        f"  per call: agent and toolset made in {e * 1e3:7.3f} ms with schemas built for the "
        f"call, {o * 1e3:7.3f} ms built once per process: {o / e:.3f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
