"""The static context re-sent every turn stays within budget (instructions + tool schemas)."""

from __future__ import annotations

import json
from typing import Any

from livekit.agents import llm

from agent import ClinicAgent
from tests.support.clinic_calls import Call

TOOLS = {
    "verify_identity", "request_otp", "verify_otp", "list_appointments", "find_open_slots",
    "book_appointment", "cancel_appointment", "reschedule_appointment", "transfer_to_staff",
    "end_call",
}  # fmt: skip


def model_schemas(call: Call) -> list[dict[str, Any]]:
    """The tool schemas the model is sent in this call (the agent's own tools and the OTP
    toolset it adds when the call starts), as the OpenAI plugin sends them."""
    tools = call.session.current_agent.tools
    return llm.ToolContext(tools).parse_function_tools("openai", strict=True)


async def test_tools_match_the_contract_and_fit_the_budget(call: Call) -> None:
    schemas = model_schemas(call)
    assert sorted(s["function"]["name"] for s in schemas) == sorted(TOOLS)  # no second copy
    size = len(call.agent.base_instructions) + len(json.dumps(schemas, separators=(",", ":")))
    print(f"prompt budget: {size} of 4500 characters")
    assert size <= 4500


async def test_tool_arguments_match_the_contract(call: Call) -> None:
    schemas = model_schemas(call)
    args = {s["function"]["name"]: set(s["function"]["parameters"]["properties"]) for s in schemas}
    assert args["verify_identity"] == {"full_name", "date_of_birth", "phone"}
    assert args["request_otp"] == {"patient_phone"}
    assert args["verify_otp"] == {"code"}
    assert args["list_appointments"] == set()
    assert args["book_appointment"] == {"slot_id"}
    assert args["cancel_appointment"] == {"appointment_id"}
    assert args["reschedule_appointment"] == {"appointment_id", "new_slot_id"}
    assert args["transfer_to_staff"] == {"reason"}
    assert args["end_call"] == set()


def test_instructions_come_from_the_prompts_folder() -> None:
    agent = ClinicAgent(clinic_name="Bayview Clinic")
    assert agent.base_instructions.startswith("You answer the phone for Bayview Clinic.")
    assert "{clinic_name}" not in agent.base_instructions
