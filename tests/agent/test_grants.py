"""What a proof is worth, and for how long (issue 9 items 7, 8, 9, 11), through the real
AgentSession and tools.

* each level expires 15 minutes after it was proven; re-proving Level 1 never extends Level 2;
* a code to a shared phone proves the phone: Level 2 reaches a patient on it only once the
  caller names that patient, and the agent never reads out the other names;
* one call books a bounded number of new appointments;
* records failing right after a correct code: the caller hears it, nothing is granted.
"""

from __future__ import annotations

import pytest
from livekit.agents import RunResult

from agent import CallOptions
from agent.replies import BOOKING_LIMIT, RECORDS_UNAVAILABLE
from clinic import demo
from tests.support.clinic_calls import (
    Call,
    RecordsDown,
    identify_jane,
    open_call,
    press_keys,
    say,
    verify_by_text,
)
from verification import VerificationLevel

LEVEL_1, LEVEL_2 = VerificationLevel.LEVEL_1, VerificationLevel.LEVEL_2
MINUTE = 60.0
SHARED = "415 555 0142"


def fake_clock(call: Call) -> list[float]:
    now = [1000.0]
    call.state.clock = lambda: now[0]
    return now


async def test_reproving_level_1_never_extends_level_2(call: Call) -> None:
    now = fake_clock(call)
    await verify_by_text(call)  # Level 2 for Jane at t=0
    now[0] += 10 * MINUTE
    await identify_jane(call)  # Level 1 again at t=10 min
    assert call.state.level_for(call.jane.id) == LEVEL_2

    now[0] += 6 * MINUTE  # t=16 min: the code's Level 2 is over, the name's Level 1 is not
    assert call.state.level_for(call.jane.id) == LEVEL_1
    appointment = (await call.clinic.appointments_for(call.jane.id))[0]
    output, is_error = await say(
        call, "Cancel it", "cancel_appointment", appointment_id=appointment.id
    )
    assert is_error and "code texted" in output
    listed, is_error = await say(call, "What do I have?", "list_appointments")
    assert not is_error and appointment.id in listed

    now[0] += 10 * MINUTE  # t=26 min: Level 1 is over too
    assert call.state.level_for(call.jane.id) == VerificationLevel.NONE


async def test_level_2_by_name_dob_and_phone_keeps_its_own_expiry(call: Call) -> None:
    now = fake_clock(call)
    await say(
        call, "Jane Doe, April 12 1985, 415 555 0123", "verify_identity",
        full_name="Jane Doe", date_of_birth="1985-04-12", phone="415 555 0123",
    )  # fmt: skip
    now[0] += 14 * MINUTE
    await identify_jane(call)  # Level 1 only (no phone): Level 2 still ends at 15 min
    now[0] += 2 * MINUTE
    assert call.state.level_for(call.jane.id) == LEVEL_1


async def test_shared_phone_code_then_naming_grants_only_the_named_patient(call: Call) -> None:
    maria = await call.clinic.find_patient(demo.MARIA.full_name, demo.MARIA.date_of_birth)
    lucas = await call.clinic.find_patient(demo.LUCAS.full_name, demo.LUCAS.date_of_birth)
    assert maria is not None and lucas is not None
    await say(call, f"Text me at {SHARED}", "request_otp", patient_phone=SHARED)
    code = call.sms.last_code()
    output, _ = await say(call, code, "verify_otp", code=code)
    assert "Several patients share this number" in output
    assert "Maria" not in output and "Lucas" not in output
    assert call.state.level_for(maria.id) == call.state.level_for(lucas.id) == 0

    output, _ = await say(
        call, "I'm Maria Garcia, June 3 1980", "verify_identity",
        full_name="Maria Garcia", date_of_birth="1980-06-03",
    )  # fmt: skip
    assert "cancel and reschedule" in output and "Lucas" not in output
    assert call.state.level_for(maria.id) == LEVEL_2
    assert call.state.level_for(lucas.id) == 0  # her son's record is not hers to change

    lucas_appointment = (await call.clinic.appointments_for(lucas.id))[0]
    output, is_error = await say(
        call, "Cancel Lucas's appointment", "cancel_appointment",
        appointment_id=lucas_appointment.id,
    )  # fmt: skip
    assert is_error and (await call.clinic.get_appointment(lucas_appointment.id)).is_booked


async def test_naming_first_then_a_shared_phone_code_grants_the_named_patient(call: Call) -> None:
    maria = await call.clinic.find_patient(demo.MARIA.full_name, demo.MARIA.date_of_birth)
    assert maria is not None
    await say(
        call, "Maria Garcia, June 3 1980", "verify_identity",
        full_name="Maria Garcia", date_of_birth="1980-06-03",
    )  # fmt: skip
    await say(call, f"Text me at {SHARED}", "request_otp", patient_phone=SHARED)
    code = call.sms.last_code()
    output, _ = await say(call, code, "verify_otp", code=code)
    assert "Verified for Maria Garcia" in output and "Lucas" not in output
    assert call.state.level_for(maria.id) == LEVEL_2
    assert call.state.verified_patients(LEVEL_1) == [maria.id]


async def test_bookings_per_call_are_bounded(call: Call) -> None:
    await identify_jane(call)
    slots = await call.clinic.open_slots(limit=5)
    for slot in slots[:3]:
        output, is_error = await say(call, "Book that", "book_appointment", slot_id=slot.id)
        assert not is_error and output.startswith("Booked")
    output, is_error = await say(call, "And another", "book_appointment", slot_id=slots[3].id)
    assert is_error and output == BOOKING_LIMIT and "transfer_to_staff" in output
    assert await call.clinic.is_slot_open(slots[3].id)


async def test_bookings_per_patient_are_bounded_across_calls(call: Call) -> None:
    """Redialling does not reset a patient's allowance; a booking the records refuse (a
    slot already taken) gives its place back."""
    await identify_jane(call)
    slots = await call.clinic.open_slots(limit=5)
    taken = (await call.clinic.appointments_for(call.jane.id))[0].slot_id
    output, is_error = await say(call, "Book that", "book_appointment", slot_id=taken)
    assert is_error and output != BOOKING_LIMIT  # refused by the records, not counted
    for slot in slots[:2]:
        assert not (await say(call, "Book", "book_appointment", slot_id=slot.id))[1]

    async with open_call(
        call.clinic, call.state.services.otp, call.sms, session_id="redial",
        services=call.state.services,
    ) as redial:  # fmt: skip
        await identify_jane(redial)
        output, is_error = await say(redial, "Book", "book_appointment", slot_id=slots[2].id)
        assert not is_error  # the third of the day
        output, is_error = await say(redial, "Book", "book_appointment", slot_id=slots[3].id)
        assert is_error and output == BOOKING_LIMIT and redial.state.new_bookings == 1
    assert await call.clinic.is_slot_open(slots[3].id)


@pytest.mark.parametrize("call_options", [CallOptions(max_new_bookings=2)])
async def test_parallel_bookings_in_one_turn_respect_the_bound(call: Call) -> None:
    await identify_jane(call)
    slots = await call.clinic.open_slots(limit=4)
    call.llm.call_parallel(*(("book_appointment", {"slot_id": s.id}) for s in slots))
    result: RunResult[None] = await call.session.run(user_input="Book all of those")
    outputs = [e.item for e in result.events if e.type == "function_call_output"]
    assert sum(not o.is_error for o in outputs) == 2
    assert sum(o.is_error and o.output == BOOKING_LIMIT for o in outputs) == 2
    assert call.state.new_bookings == 2
    assert [await call.clinic.is_slot_open(s.id) for s in slots].count(False) == 2


@pytest.mark.parametrize("entry", ["spoken", "keypad"])
async def test_records_failing_right_after_a_correct_code_is_said_and_grants_nothing(
    call: Call, entry: str
) -> None:
    await say(call, "Text me at 415 555 0123", "request_otp", patient_phone="415 555 0123")
    code = call.sms.last_code()
    call.state.services.clinic = RecordsDown(  # type: ignore[assignment]
        call.clinic, "patients_with_phone"
    )
    if entry == "spoken":
        output, _ = await say(call, code, "verify_otp", code=code)
        assert "isn't available right now" in output and "transfer_to_staff" in output
        assert "You're verified" not in output
    else:
        await press_keys(call, code)
        said = [i.text_content or "" for i in call.session.history.items if i.type == "message"]
        assert "isn't available right now" in said[-1]
    assert call.state.grants == {} and call.state.proven_phone is None


async def test_records_failing_is_one_sentence_with_staff(call: Call) -> None:
    await identify_jane(call)
    call.state.services.clinic = RecordsDown(  # type: ignore[assignment]
        call.clinic, "patients_with_phone", "appointments_for"
    )
    output, is_error = await say(call, "What do I have?", "list_appointments")
    assert is_error and output == RECORDS_UNAVAILABLE


async def test_record_text_and_keypad_outcomes_never_reach_a_system_message(call: Call) -> None:
    """Names and providers from the records, and what the keypad entry came to, reach the
    model as tool output or conversation, never as instructions (issue 9 item 12)."""
    await identify_jane(call)
    await say(call, "Text me at 415 555 0123", "request_otp", patient_phone="415 555 0123")
    await press_keys(call, call.sms.last_code())
    await say(call, "What do I have booked?", "list_appointments")

    record_text = ["Jane", "Doe", *demo.DEMO_PROVIDERS, "keypad", "code is correct"]
    seen_as_data = ""
    for request in call.llm.requests:
        for item in request.items:
            if item.type == "message" and item.role in ("system", "developer"):
                text = item.text_content or ""
                assert not [t for t in record_text if t.lower() in text.lower()], text
            elif item.type == "function_call_output":
                seen_as_data += item.output
    assert "Jane Doe" in seen_as_data and "Dr. Patel" in seen_as_data
    assert "I got the code from your keypad" not in seen_as_data  # that is the caller's line
    assert call.state.level_for(call.jane.id) == LEVEL_2
