"""The static context re-sent every turn stays within budget (instructions + tool schemas)."""

from __future__ import annotations

import json

from livekit.agents import llm

from agent import ClinicAgent

TOOLS = {
    "verify_identity", "request_otp", "verify_otp", "list_appointments", "find_open_slots",
    "book_appointment", "cancel_appointment", "reschedule_appointment", "transfer_to_staff",
}  # fmt: skip


def test_tools_match_the_contract_and_fit_the_budget() -> None:
    agent = ClinicAgent(clinic_name="Bayview Clinic")
    schemas = llm.ToolContext(agent.tools).parse_function_tools("openai", strict=True)
    assert {s["function"]["name"] for s in schemas} == TOOLS
    size = len(agent.base_instructions) + len(json.dumps(schemas, separators=(",", ":")))
    assert size <= 4500


def test_tool_arguments_match_the_contract() -> None:
    agent = ClinicAgent()
    schemas = llm.ToolContext(agent.tools).parse_function_tools("openai", strict=True)
    args = {s["function"]["name"]: set(s["function"]["parameters"]["properties"]) for s in schemas}
    assert args["verify_identity"] == {"full_name", "date_of_birth", "phone"}
    assert args["request_otp"] == {"patient_phone"}
    assert args["verify_otp"] == {"code"}
    assert args["list_appointments"] == set()
    assert args["book_appointment"] == {"slot_id"}
    assert args["cancel_appointment"] == {"appointment_id"}
    assert args["reschedule_appointment"] == {"appointment_id", "new_slot_id"}
    assert args["transfer_to_staff"] == {"reason"}


def test_instructions_come_from_the_prompts_folder() -> None:
    agent = ClinicAgent(clinic_name="Bayview Clinic")
    assert agent.base_instructions.startswith("You answer the phone for Bayview Clinic.")
    assert "{clinic_name}" not in agent.base_instructions
