"""The static context re-sent every turn stays within budget (instructions + tool schemas)."""

from __future__ import annotations

import json
import re
from typing import Any

from livekit.agents import llm

from agent import ClinicAgent
from agent.instructions import instructions, languages
from clinic import demo
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
    """In every language: the instructions and the tool schemas within 4,500 characters."""
    schemas = model_schemas(call)
    assert sorted(s["function"]["name"] for s in schemas) == sorted(TOOLS)  # no second copy
    tools = len(json.dumps(schemas, separators=(",", ":")))
    for language in languages():
        size = len(instructions("Bayview Clinic", language)) + tools
        print(f"prompt budget ({language}): {size} of 4500 characters")
        assert size <= 4500, language


async def test_tool_arguments_match_the_contract(call: Call) -> None:
    schemas = model_schemas(call)
    args = {s["function"]["name"]: set(s["function"]["parameters"]["properties"]) for s in schemas}
    assert args["verify_identity"] == {"full_name", "date_of_birth", "phone"}
    assert args["request_otp"] == {"patient_phone", "channel"}
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


async def test_nothing_in_the_static_context_is_a_value_to_copy(call: Call) -> None:
    """Small models copy examples: "402991" from a description came back as a guess again
    and again, "12345" as an appointment id. No tool description, argument description or
    instruction holds a number, a date, a demo name or an id: placeholders only."""
    texts = [json.dumps(model_schemas(call))] + [
        instructions("Bayview Clinic", language) for language in languages()
    ]
    names = {p.full_name for p in demo.DEMO_PATIENTS} | {p.full_name.split()[0] for p in
                                                          demo.DEMO_PATIENTS}  # fmt: skip
    for text in texts:
        assert not re.search(r"\d{3}", text.replace("911", "")), text  # the emergency number
        assert not any(name in text for name in names)
        assert not re.search(r"\b(?:A|P|S)[0-9A-Z]{4,}\b", text)  # record ids
