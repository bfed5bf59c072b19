"""Print the static context every LLM turn re-sends: instructions plus tool schemas.

Measured as the OpenAI plugin sends it: `ToolContext(agent.tools).parse_function_tools(
"openai", strict=True)` serialised as compact JSON (what goes on the wire), plus the
instructions text. The budget is 4,500 characters.

    uv run python bench/prompt_budget.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livekit.agents import llm

from agent import ClinicAgent

BUDGET = 4500


def main() -> int:
    agent = ClinicAgent(clinic_name="Bayview Clinic")
    schemas = llm.ToolContext(agent.tools).parse_function_tools("openai", strict=True)
    tools_chars = len(json.dumps(schemas, separators=(",", ":")))
    instructions_chars = len(agent.base_instructions)
    total = tools_chars + instructions_chars
    print(f"instructions:           {instructions_chars:5d} chars")
    print(f"tool schemas ({len(schemas)} tools): {tools_chars:5d} chars")
    for schema in sorted(schemas, key=lambda s: s["function"]["name"]):
        size = len(json.dumps(schema, separators=(",", ":")))
        print(f"  {schema['function']['name']:<24}{size:5d}")
    print(f"static context:         {total:5d} chars (budget {BUDGET}, {BUDGET - total} left)")
    return 0 if total <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
