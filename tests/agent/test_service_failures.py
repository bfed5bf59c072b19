"""A service failing mid-call (issue 17 item 1): the caller hears a sentence, never silence,
the call goes on or goes to a person, and nothing the call proved is lost.

The scripted model fails the way llama.cpp did on a tool call it could not parse: the model
server answers with an error LiveKit gives up on. Each test asserts what the caller hears
(the agent's messages), not only what the records hold.
"""

from __future__ import annotations

import contextlib
import itertools

import pytest
from livekit import api, rtc
from livekit.agents import APIConnectionError
from livekit.agents.testing import fake_job_context
from livekit.agents.utils import http_context

from agent import CallOptions
from agent.instructions import phrase
from tests.support.clinic_calls import (
    Call,
    agent_said,
    identify_jane,
    say,
    until_closed,
    verify_by_text,
)
from tests.support.livekit_standin import LiveKitSipStandin

STAFF = "+14155550100"


async def failed_turn(call: Call, text: str) -> None:
    """One caller turn the model server fails on (LiveKit gives the reply up). The run ends
    with what the agent said instead; where LiveKit also hands the error to the run, the
    console prints it as one line (tests/agent/test_console.py)."""
    call.llm.fail("failed to generate LLM completion after 4 attempts")
    with contextlib.suppress(APIConnectionError):
        await call.session.run(user_input=text)
    assert call.agent.failures is not None
    await call.agent.failures.settled()


async def test_a_failed_reply_is_an_apology_and_the_next_turn_retries(call: Call) -> None:
    await identify_jane(call)
    await verify_by_text(call)

    await failed_turn(call, "Please cancel my appointment")

    assert agent_said(call)[-1] == phrase("retry_llm_error")
    assert call.agent.failures is not None
    assert call.agent.failures.last is not None
    assert call.agent.failures.last.line.startswith("the language model failed:")
    # the next turn works, and what the call proved is still there: the cancel goes through
    [appointment, *_] = await call.clinic.appointments_for(call.jane.id)
    output, is_error = await say(
        call, "Please cancel my appointment", "cancel_appointment", appointment_id=appointment.id
    )
    assert not is_error and output.startswith("Cancelled")
    assert (await call.clinic.get_appointment(appointment.id)).status == "cancelled"
    assert call.agent.failures.in_a_row == 0


async def test_failures_in_a_row_give_the_front_desk_and_end_the_call(call: Call) -> None:
    await failed_turn(call, "Hello?")
    await failed_turn(call, "Hello, are you there?")

    said = agent_said(call)
    assert said[-2] == phrase("retry_llm_error")
    desk = "415 555 0100, weekdays 8 to 5"
    assert said[-1] == f"{phrase('giving_up')} {phrase('call_the_desk', desk=desk)}"
    # the same apology is never said twice in a row
    assert all(a != b for a, b in itertools.pairwise(said))
    await until_closed(call, timeout=1)  # the session closes once the goodbye is said
    assert not call.session._started


@pytest.mark.parametrize("call_options", [CallOptions(staff_transfer_number=STAFF)])
async def test_on_the_phone_line_failures_in_a_row_transfer_to_staff(
    call: Call, livekit_server: LiveKitSipStandin
) -> None:
    livekit_server.status = api.SIPTransferStatus.STS_TRANSFER_SUCCESSFUL
    call.state.sip_participant_identity = "sip_caller"
    async with http_context.open():
        with fake_job_context(room=rtc.Room()):
            await failed_turn(call, "Hello?")
            await failed_turn(call, "Hello?")

    assert agent_said(call)[-1] == f"{phrase('giving_up')} {phrase('transferring')}"
    (request,) = livekit_server.transfers
    assert request.transfer_to == f"tel:{STAFF}"
    assert request.participant_identity == "sip_caller"
