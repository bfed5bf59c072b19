"""Print what an LLM request spends on tool schemas, built per request (LiveKit) or once.

Per request, the OpenAI plugin turns the tools into JSON: `llm.ToolContext(tools)
.parse_function_tools("openai", strict=...)`. For a `FunctionTool` that builds a pydantic model
from the signature, then its (strict) JSON schema, every time; a tool from
`verification.livekit.with_prebuilt_schemas` carries the schema it was built with once. The
tools are the clinic call's: `ClinicAgent`'s own and the `OtpToolset`'s. Both ways are timed in
the same run, interleaved, and the figure is the median of the rounds; the JSON is checked to
be identical first.

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
from verification import ConsoleSmsSender, OtpService, SqliteOtpStore
from verification.livekit import OtpToolset, with_prebuilt_schemas

Tools = Sequence[llm.Tool | llm.Toolset]


class _NoOneOnFile:
    async def is_on_file(self, phone_e164: str) -> bool:
        return False


def per_request(tools: Tools, strict: bool, requests: int) -> float:
    """Seconds one request spends turning `tools` into the JSON it sends."""
    start = time.perf_counter()
    for _ in range(requests):
        llm.ToolContext(list(tools)).parse_function_tools("openai", strict=strict)
    return (time.perf_counter() - start) / requests


def clinic_tools(tmp: str) -> list[llm.FunctionTool[..., Any]]:
    """The clinic call's tools as LiveKit builds them: the agent's and the toolset's methods."""
    otp = OtpService(
        SqliteOtpStore(Path(tmp) / "otp.sqlite3"),  # never opened: only schemas are read
        ConsoleSmsSender(),
        _NoOneOnFile(),
        pepper=b"tool-schemas-bench-pepper",
    )
    return [
        *methods(ClinicAgent(clinic_name="Bayview Clinic")),
        *methods(OtpToolset(otp, session_id="bench")),
    ]


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
        livekits = clinic_tools(tmp)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
