"""Safe with a misbehaving model (issue 12 item 6): what real small models do, scripted.

Each test plays one thing a real model did: cancel on the first turn with an invented id,
text a code nobody asked for, pass the caller ID's digits as a phone, check a code the caller
never said, say a tool call's JSON aloud, add keys the schema does not have, wrap calls in
stray text. For each: nothing forbidden happens (no record changes, no text goes out, no
grant, no attempt burned), the tool's answer names the next right step in one sentence, and
the `call` fixture's teardown checks that no code and no full phone number was said, shown,
logged or put in the metrics.
"""

from __future__ import annotations

import json

import pytest
from livekit.agents import RunResult

from agent.instructions import phrase
from agent.replies import NEEDS_LEVEL_2, PHONE_NOT_SAID
from agent.wiring import MAX_TOOL_STEPS
from clinic import demo
from tests.support.clinic_calls import Call, agent_said, say
from tests.support.constants import JANE_PHONE
from tests.support.conversation import tool_output
from verification.livekit import replies as otp_replies

CODE_NUMBER_NOT_SAID = otp_replies.NUMBER_NOT_SAID.model
NOT_HEARD = otp_replies.NOT_HEARD.model


def one_sentence(text: str) -> bool:
    """A single instruction for the model: one or two short sentences, naming a next step."""
    return text.count(". ") <= 2 and len(text) < 240


async def test_cancel_on_the_first_turn_with_an_invented_id(call: Call) -> None:
    appointments = await call.clinic.appointments_for(call.jane.id)
    output, is_error = await say(
        call, "Hi, I need to cancel", "cancel_appointment", appointment_id="A12345"
    )
    assert is_error and output == NEEDS_LEVEL_2 and one_sentence(output)
    assert "request_otp" in output  # the next right step
    assert await call.clinic.appointments_for(call.jane.id) == appointments


async def test_a_code_to_a_number_the_caller_never_said_is_not_sent(call: Call) -> None:
    output, is_error = await say(
        call, "Hi, I'd like to book a checkup", "request_otp", patient_phone=JANE_PHONE
    )
    assert call.sms.sent == []
    assert (output, is_error) == (CODE_NUMBER_NOT_SAID, True) and one_sentence(output)


@pytest.mark.parametrize("caller_phone", [demo.JANE.phone])
async def test_caller_id_digits_as_a_phone_number(call: Call) -> None:
    """The model copies the caller ID's digits into verify_identity's phone: only a number
    the caller said counts, so no Level 2 comes of it and nothing is counted."""
    output, is_error = await say(
        call, "I'm Jane Doe, born April 12 1985", "verify_identity",
        full_name="Jane Doe", date_of_birth="1985-04-12", phone=demo.JANE.phone,
    )  # fmt: skip
    assert (output, is_error) == (PHONE_NOT_SAID, True) and one_sentence(output)
    assert call.state.grants == {} and call.state.identity_failures == 0

    # nor into request_otp's: the caller never said it, so nothing is sent
    output, is_error = await say(
        call, "Can you text me?", "request_otp", patient_phone=demo.JANE.phone
    )
    assert (output, is_error) == (CODE_NUMBER_NOT_SAID, True) and '"caller"' in output
    assert call.sms.sent == []

    # the caller's number is reached the right way: the "caller" keyword texts the caller ID
    output, is_error = await say(
        call, "Yes, text the phone I'm calling from", "request_otp", patient_phone="caller"
    )
    assert not is_error and "ending in 0123" in output


async def test_verify_otp_with_a_code_the_caller_never_said(call: Call) -> None:
    await say(call, f"Text me at {JANE_PHONE}", "request_otp", patient_phone=JANE_PHONE)
    code = call.sms.last_code()
    for invented in ("123456", code):  # even the right one, if the caller never said it
        output, is_error = await say(call, "I haven't got it yet", "verify_otp", code=invented)
        assert (output, is_error) == (NOT_HEARD, True) and one_sentence(output)
    assert call.state.grants == {}
    output, _ = await say(call, f"It's {code}", "verify_otp", code=code)  # no attempt was lost
    assert "Verified for Jane Doe" in output


async def test_a_tool_call_written_as_text_is_never_said(call: Call) -> None:
    appointment = (await call.clinic.appointments_for(call.jane.id))[0]
    raw = json.dumps(
        {"name": "cancel_appointment", "arguments": {"appointment_id": appointment.id}}
    )
    call.llm.say(raw)
    await call.session.run(user_input="Cancel my appointment")
    call.llm.stream(
        "Sure. <tool_call>",
        '{"name": "verify_otp", "arguments": {"code": "4',
        '02991"}}',
        "</tool_call>",
    )
    await call.session.run(user_input="It's four oh two nine nine one")

    said = agent_said(call)
    # only tool-call text: the caller hears a question that moves the call on instead
    assert said[-2:] == [phrase("ask_again"), "Sure. "], said
    assert not any("{" in text or "tool_call" in text or "402991" in text for text in said)
    assert (await call.clinic.get_appointment(appointment.id)).is_booked  # text runs nothing


async def test_the_model_reading_out_a_phone_number_or_code_is_filtered(call: Call) -> None:
    await say(call, f"Text me at {JANE_PHONE}", "request_otp", patient_phone=JANE_PHONE)
    code = call.sms.last_code()
    call.llm.stream(
        "I texted +1 415 5", "55 0123. Your code is ", " ".join(code), ". Read it back?"
    )
    await call.session.run(user_input=f"Did it go to 415 555 0123? It says {code}")
    last = agent_said(call)[-1]
    assert last == "I texted the number ending in 0123. Your code is that code. Read it back?"


async def test_extra_keys_in_a_tool_call_grant_nothing(call: Call) -> None:
    call.llm.call_raw(
        "verify_identity",
        json.dumps(
            {
                "full_name": "Jane Doe",
                "date_of_birth": "1985-04-13",
                "phone": None,
                "level": 2,
                "verified": True,
                "patient_id": call.jane.id,
            }
        ),
    )
    result: RunResult[None] = await call.session.run(user_input="Jane Doe, April 13 1985")
    output, _ = tool_output(result, "verify_identity")
    assert output.startswith("No patient record matches") and call.state.grants == {}


async def test_stray_text_around_a_call_is_said_the_call_still_checked(call: Call) -> None:
    appointment = (await call.clinic.appointments_for(call.jane.id))[0]
    call.llm.call_with_text(
        "Sure thing, cancelling now! Your number 415 555 0123 is on file.",
        "cancel_appointment",
        appointment_id=appointment.id,
    )
    result: RunResult[None] = await call.session.run(user_input="Just cancel it")
    output, is_error = tool_output(result, "cancel_appointment")
    assert is_error and output == NEEDS_LEVEL_2
    assert (await call.clinic.get_appointment(appointment.id)).is_booked
    assert any("the number ending in 0123" in text for text in agent_said(call))


async def test_malformed_arguments_are_refused_in_words(call: Call) -> None:
    call.llm.call_raw("book_appointment", '{"slot_id": ')  # cut off mid-JSON
    result: RunResult[None] = await call.session.run(user_input="Book it")
    output, is_error = tool_output(result, "book_appointment")
    assert is_error and "An internal error occurred" not in output


# -- issue 17: the tool-step cap, copied example values, invented ids, in what the caller hears


async def test_after_the_tool_step_cap_the_caller_hears_the_way_forward_never_twice(
    call: Call,
) -> None:
    """A small model keeps calling a refused tool until LiveKit's tool-step cap asks it for a
    reply without tools, then writes the call out as JSON. The caller hears the refusal's own
    sentence for them (a code is needed: shall I send one?), and the next time the same dead
    end comes up, a different sentence: never the same fallback turn after turn."""
    for turn in range(2):
        call.llm.call("cancel_appointment", appointment_id="12345")
        call.llm.chain("cancel_appointment", appointment_id="12345")
        call.llm.chain("cancel_appointment", appointment_id="12345")  # the third step: the cap
        call.llm.write_call_as_text("cancel_appointment", appointment_id="12345")
        result: RunResult[None] = await call.session.run(user_input="Cancel my appointment now")
        outputs = [e.item for e in result.events if e.type == "function_call_output"]
        assert len(outputs) == MAX_TOOL_STEPS and all(o.is_error for o in outputs), turn
    said = agent_said(call)
    assert said[-2] == phrase("needs_code")  # the refusal, for the caller
    assert said[-1] != said[-2] and said[-1] in {
        phrase(name) for name in ("ask_again", "ask_next", "ask_person")
    }
    assert not any("{" in text or "cancel_appointment" in text for text in said)


async def test_a_copied_example_code_is_not_checked(call: Call) -> None:
    """The old verify_otp description showed "402991", and small models sent it again and
    again. The description now holds no value to copy, and a code the caller never said is
    not checked: no attempt is spent, and the caller is asked to read theirs."""
    await say(call, f"Text me at {JANE_PHONE}", "request_otp", patient_phone=JANE_PHONE)
    code = call.sms.last_code()
    copied = "402991" if code != "402991" else "402992"
    for _ in range(3):
        output, is_error = await say(call, "I got a text", "verify_otp", code=copied)
        assert (output, is_error) == (NOT_HEARD, True)
    said = agent_said(call)[-1]
    assert "read" in said.lower() and copied not in said
    output, _ = await say(call, f"It's {code}", "verify_otp", code=code)  # nothing was spent
    assert "Verified for Jane Doe" in output


async def test_an_invented_id_on_the_first_turn_is_heard_as_the_next_step(call: Call) -> None:
    """`cancel_appointment(12345)` before anyone is verified: nothing changes, and what the
    caller hears is how to go on (a code to the phone on file), not an error."""
    appointments = await call.clinic.appointments_for(call.jane.id)
    await say(call, "Hi, I need to cancel", "cancel_appointment", appointment_id="12345")
    heard = agent_said(call)[-1]
    assert "code" in heard and "12345" not in heard
    assert await call.clinic.appointments_for(call.jane.id) == appointments
