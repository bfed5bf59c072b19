"""Print the static context every LLM turn re-sends: instructions plus tool schemas.

Measured as the OpenAI plugin sends it: `ToolContext(tools).parse_function_tools("openai",
strict=True)` serialised as compact JSON (what goes on the wire), plus the instructions text,
where `tools` is what a call's model sees: `ClinicAgent`'s own tools and the `OtpToolset` it
adds when the call starts (request_otp, verify_otp), in every language of `prompts/`. The
budget is 4,500 characters.

    uv run python bench/prompt_budget.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livekit.agents import llm

from agent import ClinicAgent
from agent.instructions import instructions, languages
from tests.support.sms import StaticDirectory
from verification import ConsoleSmsSender, OtpService, SqliteOtpStore
from verification.livekit import OtpToolset

BUDGET = 4500


def main() -> int:
    agent = ClinicAgent(clinic_name="Bayview Clinic")
    with tempfile.TemporaryDirectory() as tmp:
        otp = OtpService(
            SqliteOtpStore(Path(tmp) / "otp.sqlite3"),  # never opened: only schemas are read
            ConsoleSmsSender(),
            StaticDirectory(set()),  # no one on file
            pepper=b"prompt-budget-bench-pepper",
        )
        toolset = OtpToolset(otp, session_id="prompt-budget")
        tools = [*agent.tools, toolset]
    schemas = llm.ToolContext(tools).parse_function_tools("openai", strict=True)
    tools_chars = len(json.dumps(schemas, separators=(",", ":")))
    print(f"tool schemas ({len(schemas)} tools): {tools_chars:5d} chars")
    for schema in sorted(schemas, key=lambda s: s["function"]["name"]):
        size = len(json.dumps(schema, separators=(",", ":")))
        print(f"  {schema['function']['name']:<24}{size:5d}")
    largest = 0
    for language in languages():
        instructions_chars = len(instructions(agent.clinic_name, language))
        total = tools_chars + instructions_chars
        largest = max(largest, total)
        print(
            f"{language}: instructions {instructions_chars:5d} chars, static context "
            f"{total:5d} (budget {BUDGET}, {BUDGET - total} left)"
        )
    return 0 if largest <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
