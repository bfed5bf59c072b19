"""A 40-turn call: the real AgentSession and ClinicAgent, a scripted model, real records.

The model is sent a bounded context (`agent/context.py`): after a few turns it no longer
sees the turns in which the caller was verified, or the code, or the appointment list. The
rules never read that context (grants are in `CallState`, what the caller said is read from
the session's whole history), so a long call verifies, cancels and refuses exactly as a
short one does, and what the model is sent stays the size of a short call.
"""

from __future__ import annotations

import json

from livekit.agents import llm

from agent.context import COMPACT_EVERY, KEEP_TURNS
from agent.replies import NEEDS_LEVEL_2, NOT_YOURS
from tests.support.clinic_calls import Call, identify_jane, say, verify_by_text
from tests.support.constants import JANE_PHONE

LONG = 40


async def small_talk(call: Call, turns: int) -> None:
    """`turns` caller turns of open times: each a tool call and its (long) output."""
    for n in range(turns):
        output, is_error = await say(call, f"Any open times next week, {n}?", "find_open_slots")
        assert not is_error and output


def what_the_model_was_sent(call: Call) -> llm.ChatContext:
    return call.llm.requests[-1]


def caller_turns_sent(ctx: llm.ChatContext) -> int:
    return sum(1 for i in ctx.items if i.type == "message" and i.role == "user")


async def test_a_long_call_still_verifies_and_cancels(call: Call) -> None:
    appointment = (await call.clinic.appointments_for(call.jane.id))[0]
    await small_talk(call, LONG - 4)
    await identify_jane(call)
    await verify_by_text(call)

    output, is_error = await say(
        call, "Cancel my appointment", "cancel_appointment", appointment_id=appointment.id
    )

    assert not is_error and output.startswith("Cancelled")
    assert (await call.clinic.get_appointment(appointment.id)).status == "cancelled"
    assert caller_turns_sent(what_the_model_was_sent(call)) < KEEP_TURNS + COMPACT_EVERY


async def test_verification_outlives_the_turns_that_proved_it(call: Call) -> None:
    """Verified at the start, cancelled 40 turns later: the model no longer sees the code
    turns, the tools still know (CallState)."""
    appointment = (await call.clinic.appointments_for(call.jane.id))[0]
    await identify_jane(call)
    code = await verify_by_text(call)
    await small_talk(call, LONG - 4)

    output, is_error = await say(
        call, "Cancel my appointment", "cancel_appointment", appointment_id=appointment.id
    )

    assert not is_error and output.startswith("Cancelled")
    sent = what_the_model_was_sent(call)
    assert {i.name for i in sent.items if i.type == "function_call"} == {
        "find_open_slots",
        "cancel_appointment",
    }
    seen = json.dumps(sent.to_dict())
    assert code not in seen and JANE_PHONE not in seen
    note = sent.items[1]
    assert note.type == "message"
    assert "cancel or reschedule for one patient record" in (note.text_content or "")


async def test_a_long_call_still_refuses(call: Call) -> None:
    johns = (await call.clinic.appointments_for(call.john.id))[0]
    await small_talk(call, LONG - 2)

    output, is_error = await say(
        call, "Cancel appointment " + johns.id, "cancel_appointment", appointment_id=johns.id
    )
    assert is_error and output == NEEDS_LEVEL_2

    await identify_jane(call)
    await verify_by_text(call)
    output, is_error = await say(
        call, "Cancel appointment " + johns.id, "cancel_appointment", appointment_id=johns.id
    )
    assert is_error and output == NOT_YOURS
    assert (await call.clinic.get_appointment(johns.id)).status == "booked"


async def test_what_the_model_is_sent_stays_bounded(call: Call) -> None:
    """At 40 turns the model is sent about what it is sent at 5: never more turns than the
    window, the instructions whole and first."""
    await small_talk(call, 5)
    at_five = what_the_model_was_sent(call)
    await small_talk(call, LONG - 5)
    at_forty = what_the_model_was_sent(call)

    assert caller_turns_sent(at_five) == 5
    assert KEEP_TURNS <= caller_turns_sent(at_forty) < KEEP_TURNS + COMPACT_EVERY
    assert len(call.session.history.items) > 4 * LONG  # the session keeps everything
    assert len(at_forty.items) < 2 * len(at_five.items)
    assert at_forty.items[0].id == at_five.items[0].id == "lk.agent_task.instructions"
    first = at_forty.items[0]
    assert first.type == "message" and call.agent.base_instructions in (first.text_content or "")
