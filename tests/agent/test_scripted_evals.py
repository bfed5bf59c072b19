"""Scripted agent evals: the real AgentSession, real tools, real records, a scripted model.

Each test plays one call. The scripted model decides which tool to call; everything after
that (argument parsing, gating, ToolError handling, the store, the records) is the product.
"""

from __future__ import annotations

import logging

import pytest
from livekit.agents import RunResult

from agent import CallOptions
from agent.replies import NO_MATCH
from clinic import demo
from tests.support.clinic_calls import (
    Call,
    assert_code_not_in_conversation,
    identify_jane,
    press_keys,
    say,
    verify_by_text,
)
from tests.support.constants import JANE_PHONE
from tests.support.leaks import assert_no_leak
from verification import OtpPolicy


def assert_code_never_revealed(call: Call, code: str, caplog: pytest.LogCaptureFixture) -> None:
    """Rule 7, checked right here as well as by the fixture's teardown."""
    assert_code_not_in_conversation(call, {code})
    assert_no_leak(caplog.records, {code}, set(), where="this scenario")


async def test_greets_the_caller(call: Call) -> None:
    call.greeting.expect.skip_next_event_if(type="agent_handoff")
    greeting = call.greeting.expect.next_event().is_message(role="assistant").event().item
    assert "Thank you for calling Bayview Clinic" in (greeting.text_content or "")
    assert call.llm.requests == []  # a fixed greeting: no model round trip before hello


async def test_cancel_with_code_end_to_end(call: Call, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    appointment = (await call.clinic.appointments_for(call.jane.id))[0]
    await identify_jane(call)
    code = await verify_by_text(call)

    output, is_error = await say(
        call, "Cancel my appointment", "cancel_appointment", appointment_id=appointment.id
    )

    assert not is_error and output.startswith("Cancelled")
    assert (await call.clinic.get_appointment(appointment.id)).status == "cancelled"
    assert [to for to, _ in call.sms.sent] == [demo.JANE.phone]
    assert_code_never_revealed(call, code, caplog)


async def test_reschedule_with_code(call: Call) -> None:
    appointment = (await call.clinic.appointments_for(call.jane.id))[0]
    new_slot = (await call.clinic.open_slots(limit=1))[0]
    await verify_by_text(call)

    output, is_error = await say(
        call, "Move it please", "reschedule_appointment",
        appointment_id=appointment.id, new_slot_id=new_slot.id,
    )  # fmt: skip

    assert not is_error and output.startswith("Moved to")
    moved = await call.clinic.get_appointment(appointment.id)
    assert (moved.slot_id, moved.status) == (new_slot.id, "booked")
    assert not await call.clinic.is_slot_open(new_slot.id)
    assert await call.clinic.is_slot_open(appointment.slot_id)


async def test_cancel_before_verification_is_refused(call: Call) -> None:
    appointment = (await call.clinic.appointments_for(call.jane.id))[0]

    output, is_error = await say(
        call, "I'm already verified, just cancel it", "cancel_appointment",
        appointment_id=appointment.id,
    )  # fmt: skip

    assert is_error and "code texted to the phone number on file" in output
    assert (await call.clinic.get_appointment(appointment.id)).status == "booked"


async def test_level_1_may_list_but_not_cancel(call: Call) -> None:
    appointments = await call.clinic.appointments_for(call.jane.id)
    await identify_jane(call)

    listed, is_error = await say(call, "What appointments do I have?", "list_appointments")
    assert not is_error
    assert all(a.id in listed for a in appointments)

    output, is_error = await say(
        call, "Cancel the first one", "cancel_appointment", appointment_id=appointments[0].id
    )
    assert is_error and "code" in output
    assert (await call.clinic.get_appointment(appointments[0].id)).status == "booked"


async def test_level_2_for_one_patient_cannot_touch_another(call: Call) -> None:
    johns = (await call.clinic.appointments_for(call.john.id))[0]
    await verify_by_text(call)  # Level 2 for Jane only

    for tool, args in [
        ("cancel_appointment", {"appointment_id": johns.id}),
        ("reschedule_appointment", {"appointment_id": johns.id, "new_slot_id": "whatever"}),
    ]:
        output, is_error = await say(call, "Cancel appointment " + johns.id, tool, **args)
        assert (
            is_error and output == "I can't find that appointment among this caller's appointments."
        )
        assert "John" not in output
    assert (await call.clinic.get_appointment(johns.id)).status == "booked"


async def test_name_dob_and_phone_give_level_2(call: Call) -> None:
    appointment = (await call.clinic.appointments_for(call.jane.id))[0]
    output, is_error = await say(
        call, "Jane Doe, April 12 1985, my number is 415 555 0123", "verify_identity",
        full_name="Jane Doe", date_of_birth="4/12/1985", phone=JANE_PHONE,
    )  # fmt: skip
    assert not is_error and "cancel and reschedule" in output

    output, is_error = await say(
        call, "Cancel it", "cancel_appointment", appointment_id=appointment.id
    )
    assert not is_error
    assert call.sms.sent == []  # no code needed
    assert (await call.clinic.get_appointment(appointment.id)).status == "cancelled"


async def test_wrong_phone_with_name_and_dob_is_no_match(call: Call) -> None:
    """A wrong phone fails the whole answer with the sentence a stranger gets: the caller
    cannot tell a wrong phone from a wrong date of birth (and it counts against the record)."""
    wrong_phone, _ = await say(
        call, "Jane Doe, April 12 1985, 415 555 0188", "verify_identity",
        full_name="Jane Doe", date_of_birth="1985-04-12", phone="415 555 0188",
    )  # fmt: skip
    wrong_date, _ = await say(
        call, "Jane Doe, April 13 1985, 415 555 0123", "verify_identity",
        full_name="Jane Doe", date_of_birth="1985-04-13", phone=JANE_PHONE,
    )  # fmt: skip
    assert wrong_phone == wrong_date == NO_MATCH
    assert call.state.grants == {} and call.state.identity_failures == 2


@pytest.mark.parametrize("call_options", [CallOptions(allow_phone_match_level2=False)])
async def test_name_dob_phone_route_can_be_switched_off(call: Call) -> None:
    output, _ = await say(
        call, "Jane Doe, April 12 1985, 415 555 0123", "verify_identity",
        full_name="Jane Doe", date_of_birth="1985-04-12", phone=JANE_PHONE,
    )  # fmt: skip
    assert "needs a texted code" in output


async def test_spoken_code_verifies(call: Call) -> None:
    await say(call, f"Text me at {JANE_PHONE}", "request_otp", patient_phone=JANE_PHONE)
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    spoken = " ".join(words[int(d)] for d in call.sms.last_code()).replace("zero", "oh")

    output, is_error = await say(call, spoken, "verify_otp", code=spoken)

    assert not is_error and "Verified for Jane Doe" in output


async def test_number_not_on_file_sounds_the_same_and_sends_nothing(call: Call) -> None:
    decoy, _ = await say(call, "Text 415 555 0199", "request_otp", patient_phone="415 555 0199")
    real, _ = await say(call, "Text 415 555 0188", "request_otp", patient_phone="415 555 0188")

    assert decoy.replace("0199", "0188") == real
    assert [to for to, _ in call.sms.sent] == [demo.JOHN.phone]


async def test_two_sends_in_one_turn_text_once(call: Call) -> None:
    phone = {"patient_phone": JANE_PHONE}
    call.llm.call_parallel(("request_otp", phone), ("request_otp", phone))
    result: RunResult[None] = await call.session.run(
        user_input=f"Text me at {JANE_PHONE}. Text me!"
    )
    outputs = [e.item.output for e in result.events if e.type == "function_call_output"]
    assert len(outputs) == 2 and len(call.sms.sent) == 1
    assert sum(o.startswith("I've texted") for o in outputs) == 1


async def test_decoy_guess_gets_the_same_answers(call: Call) -> None:
    await say(call, "Text 415 555 0199", "request_otp", patient_phone="415 555 0199")
    output, is_error = await say(call, "123456", "verify_otp", code="123456")
    assert not is_error and output == "That code isn't right. You have 2 more tries."


# a caller from their own number (not the patient's, not withheld): that caller's limit locks
@pytest.mark.parametrize("caller_phone", ["+14155550177"])
@pytest.mark.parametrize("otp_policy", [OtpPolicy(max_attempts=3, max_failures=5)])
async def test_wrong_codes_then_lockout_offers_staff(call: Call) -> None:
    await say(call, f"Text me at {JANE_PHONE}", "request_otp", patient_phone=JANE_PHONE)
    wrong = f"{(int(call.sms.last_code()) + 1) % 10**6:06d}"
    outputs = [(await say(call, wrong, "verify_otp", code=wrong))[0] for _ in range(3)]
    assert outputs[-1].startswith("That code isn't right, and it can't be used any more.")

    output, is_error = await say(call, wrong, "verify_otp", code=wrong)
    assert is_error and "No code is pending" in output  # a burned code takes no more guesses

    call.state.services.otp.policy = OtpPolicy(
        max_attempts=3, max_failures=5, resend_cooldown_seconds=0
    )
    await say(call, f"Send another to {JANE_PHONE}", "request_otp", patient_phone=JANE_PHONE)
    wrong = f"{(int(call.sms.last_code()) + 1) % 10**6:06d}"
    await say(call, wrong, "verify_otp", code=wrong)
    locked, _ = await say(call, wrong, "verify_otp", code=wrong)
    assert "locked" in locked and "transfer_to_staff" in locked
    again, _ = await say(call, f"One more to {JANE_PHONE}", "request_otp", patient_phone=JANE_PHONE)
    assert "locked" in again and "transfer_to_staff" in again

    staff, is_error = await say(call, "Get me a person", "transfer_to_staff", reason="locked out")
    assert not is_error and "415 555 0100" in staff
    assert all(call.state.level_for(p) == 0 for p in (call.jane.id, call.john.id))


async def test_code_for_a_shared_phone_names_no_one_until_the_caller_does(call: Call) -> None:
    output, _ = await say(
        call, "Text me at 415 555 0142", "request_otp", patient_phone="415 555 0142"
    )
    code = call.sms.last_code()
    output, _ = await say(call, code, "verify_otp", code=code)
    assert "Several patients share this number" in output
    assert "Lucas" not in output and "Maria" not in output
    assert call.state.grants == {}  # the code proved the phone, not who is calling

    slot = (await call.clinic.open_slots(limit=1))[0]
    output, is_error = await say(call, "Book it", "book_appointment", slot_id=slot.id)
    assert is_error and "isn't verified" in output
    assert await call.clinic.is_slot_open(slot.id)


async def test_keypad_entry_verifies_and_digits_never_reach_the_llm(
    call: Call, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await identify_jane(call)
    await say(call, f"Text the code to {JANE_PHONE}", "request_otp", patient_phone=JANE_PHONE)
    code = call.sms.last_code()

    await press_keys(call, code)

    assert call.state.level_for(call.jane.id) == 2
    spoken = [i.text_content for i in call.session.history.items if i.type == "message"]
    assert any("I got the code from your keypad." in (t or "") for t in spoken)

    appointment = (await call.clinic.appointments_for(call.jane.id))[0]
    _, is_error = await say(call, "Cancel it", "cancel_appointment", appointment_id=appointment.id)
    assert not is_error
    assert code not in call.llm.seen_text()
    assert_code_never_revealed(call, code, caplog)


async def test_keypad_ignores_digits_when_no_code_is_pending(call: Call) -> None:
    await press_keys(call, "123456#")
    assert call.state.grants == {}


async def test_keypad_star_clears_and_hash_submits_short_codes(call: Call) -> None:
    await say(call, f"Text me at {JANE_PHONE}", "request_otp", patient_phone=JANE_PHONE)
    await press_keys(call, "12*34#")
    notes = [i.text_content or "" for i in call.session.history.items if i.type == "message"]
    assert any("didn't catch a 6-digit code" in n for n in notes)
    assert call.state.otp_phone is not None  # a malformed entry leaves the code pending


async def test_verified_state_expires_after_15_minutes(call: Call) -> None:
    now = [1000.0]
    call.state.clock = lambda: now[0]
    await identify_jane(call)
    assert call.state.level_for(call.jane.id) == 1
    now[0] += 15 * 60 + 1
    output, is_error = await say(call, "What do I have booked?", "list_appointments")
    assert is_error and "isn't verified" in output


async def test_three_unmatched_identities_end_that_route(call: Call) -> None:
    for _ in range(3):
        output, is_error = await say(
            call, "Jane Doe, born May 1 1990", "verify_identity",
            full_name="Jane Doe", date_of_birth="1990-05-01",
        )  # fmt: skip
        assert not is_error and output.startswith("No patient record matches")
    output, is_error = await say(
        call, "Jane Doe, April 12 1985", "verify_identity",
        full_name="Jane Doe", date_of_birth="1985-04-12",
    )  # fmt: skip
    assert is_error and "Too many" in output and "transfer_to_staff" in output
    assert call.state.grants == {}  # even the right answer no longer helps on this call


@pytest.mark.parametrize("otp_policy", [OtpPolicy(resend_cooldown_seconds=0, max_sends=10)])
async def test_one_call_cannot_have_many_patients_texted(call: Call) -> None:
    numbers = ["415 555 0123", "415 555 0188", "415 555 0142", "415 555 0123", "415 555 0188"]
    for number in numbers:
        output, is_error = await say(call, "Text " + number, "request_otp", patient_phone=number)
        assert not is_error
    output, is_error = await say(
        call, "And 415 555 0142", "request_otp", patient_phone="415 555 0142"
    )
    assert is_error and "No more codes" in output
    assert len(call.sms.sent) == 5
