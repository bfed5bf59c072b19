"""A warm hand-off (issue 19 item 4): staff hear who called, what they wanted and what was
verified (never a code or a full number) before the caller is connected; the cold transfer
stays as the fallback.

The briefing is checked as staff would hear it. The warm path runs LiveKit's real
`WarmTransferTask`; here no LiveKit server can take its call to staff (it needs a room on a
real server), so what is exercised end to end is the fallback: staff unreachable, the caller
is transferred cold through the SIP API stand-in. The success path is LiveKit's own task,
started with our briefing as its instructions (docs/operations.md says how to try it live).
"""

from __future__ import annotations

import pytest
from livekit import rtc
from livekit.agents.testing import fake_job_context
from livekit.agents.utils import http_context

from agent import CallOptions
from agent.handoff import staff_briefing
from agent.instructions import phrase
from agent.settings import AgentSettings
from tests.support.clinic_calls import (
    Call,
    RecordsDown,
    agent_said,
    identify_jane,
    say,
    until_item,
    verify_by_text,
)
from tests.support.constants import JANE_PHONE
from tests.support.livekit_standin import LiveKitSipStandin
from verification import ConfigurationError

STAFF = "+14155550100"
WARM = CallOptions(
    staff_transfer_number=STAFF,
    warm_transfer=True,
    sip_outbound_trunk="ST_1",
    warm_transfer_timeout_seconds=2.0,
)


@pytest.mark.parametrize("caller_phone", [JANE_PHONE])
async def test_staff_hear_who_called_what_was_verified_and_why(call: Call) -> None:
    await identify_jane(call)
    briefing = await staff_briefing(call.state, "wants to move her checkup; code 402991 failed")
    assert briefing == (
        "The caller is calling from the number ending in 0123. "
        "Jane Doe is verified by name and date of birth only. "
        "They want a person because: wants to move her checkup; code that code failed."
    )


async def test_a_code_proven_caller_speaking_spanish(call: Call) -> None:
    await identify_jane(call)
    await verify_by_text(call)
    call.state.language = "es"
    briefing = await staff_briefing(call.state, f"cancel, my number is {JANE_PHONE}")
    assert "The caller's number is withheld." in briefing
    assert "Jane Doe is verified for cancelling and rescheduling." in briefing
    assert "They speak Spanish." in briefing
    assert "415 555 0123" not in briefing and "ending in 0123" in briefing


async def test_a_shared_phone_names_no_one(call: Call) -> None:
    shared = "415 555 0142"
    await say(call, f"Text me at {shared}", "request_otp", patient_phone=shared)
    code = call.sms.last_code()
    await say(call, f"It's {code}", "verify_otp", code=code)
    briefing = await staff_briefing(call.state, "wants a person")
    assert "several patients share" in briefing
    assert "Maria" not in briefing and "Lucas" not in briefing


@pytest.mark.parametrize("call_options", [WARM])
async def test_staff_unreachable_the_caller_is_transferred_cold(
    call: Call, livekit_server: LiveKitSipStandin
) -> None:
    """The warm task cannot reach staff (here: no LiveKit server for its call): the caller,
    told to hold, is transferred cold, exactly as without a warm transfer."""
    call.state.sip_participant_identity = "sip_caller"
    async with http_context.open():
        with fake_job_context(room=rtc.Room()) as job:
            call.llm.call("transfer_to_staff", reason="wants a person")
            await call.session.run(user_input="Get me a person")
            # the caller is on hold while the tool works on: wait for its answer
            await until_item(call, lambda item: item.type == "function_call_output")
    [output] = [i for i in call.session.history.items if i.type == "function_call_output"]
    assert not output.is_error and "transfer is under way" in output.output
    assert phrase("hold_for_staff") in agent_said(call)
    (request,) = livekit_server.transfers
    assert request.transfer_to == f"tel:{STAFF}"
    assert request.participant_identity == "sip_caller"
    assert request.room_name == job.room.name


@pytest.mark.parametrize("call_options", [WARM])
async def test_records_down_for_the_briefing_the_caller_is_transferred_cold(
    call: Call, livekit_server: LiveKitSipStandin
) -> None:
    """A verified caller asks for a person while the records are down: no briefing can name
    them, so no staff are dialled, and the caller, already told to hold, is transferred cold
    rather than left with an error."""
    await identify_jane(call)
    call.state.services.clinic = RecordsDown(  # type: ignore[assignment]
        call.clinic, "get_patient"
    )
    call.state.sip_participant_identity = "sip_caller"
    async with http_context.open():
        with fake_job_context(room=rtc.Room()):
            call.llm.call("transfer_to_staff", reason="wants a person")
            await call.session.run(user_input="Get me a person")
            await until_item(call, lambda item: item.type == "function_call_output")
    output = [i for i in call.session.history.items if i.type == "function_call_output"][-1]
    assert not output.is_error and "transfer is under way" in output.output
    (request,) = livekit_server.transfers
    assert request.transfer_to == f"tel:{STAFF}"


def test_warm_transfers_need_the_trunk_that_dials_staff() -> None:
    with pytest.raises(ConfigurationError, match="LIVEKIT_SIP_OUTBOUND_TRUNK"):
        AgentSettings.from_env({"STAFF_TRANSFER_MODE": "warm"})
    with pytest.raises(ConfigurationError, match="STAFF_TRANSFER_MODE"):
        AgentSettings.from_env({"STAFF_TRANSFER_MODE": "lukewarm"})
    options = AgentSettings.from_env(
        {"STAFF_TRANSFER_MODE": "warm", "LIVEKIT_SIP_OUTBOUND_TRUNK": "ST_1"}
    ).options
    assert options.warm_transfer and options.sip_outbound_trunk == "ST_1"
