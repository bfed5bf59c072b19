"""Every caller reached (issue 19), through the real session: a Spanish call from greeting
to cancellation, a landline patient who gets the code by an automated call, and a spent send
budget that every caller hears the same way."""

from __future__ import annotations

import pytest

from agent import CallOptions
from agent.instructions import phrase
from clinic import demo
from tests.support.clinic_calls import Call, agent_said, say
from tests.support.constants import JANE_PHONE
from tests.support.recording_voice import RecordingVoiceSender
from verification import OtpPolicy, VerificationLevel
from verification.outcomes import SENDING_PAUSED_MESSAGE

SPANISH_DIGITS = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]


async def test_a_spanish_call_verifies_with_a_code_read_in_spanish_and_cancels(
    call: Call,
) -> None:
    call.llm.say("Con gusto. ¿Me dice su nombre completo y su fecha de nacimiento?")
    await call.session.run(user_input="Hola, quiero cancelar mi cita, por favor")
    assert call.state.language == "es"

    born = "doce de abril de mil novecientos ochenta y cinco"
    output, is_error = await say(
        call, f"Soy Jane Doe, nací el {born}", "verify_identity",
        full_name="Jane Doe", date_of_birth=born,
    )  # fmt: skip
    assert not is_error and output.startswith("Verified Jane Doe")

    said_phone = "cuatro uno cinco, cinco cinco cinco, cero uno dos tres"
    output, is_error = await say(
        call, f"Sí, mándelo al {said_phone}", "request_otp", patient_phone="415 555 0123"
    )
    assert not is_error and "ending in 0123" in output
    [(to, text)] = call.sms.sent
    assert to == demo.JANE.phone and text.startswith("Código de ")  # in Spanish

    code = call.sms.last_code()
    spoken = ", ".join(SPANISH_DIGITS[int(d)] for d in code)
    output, is_error = await say(call, f"El código es {spoken}", "verify_otp", code=spoken)
    assert not is_error and "Verified for Jane Doe" in output
    assert call.state.level_for(call.jane.id) == VerificationLevel.LEVEL_2

    [appointment, *_] = await call.clinic.appointments_for(call.jane.id)
    output, is_error = await say(
        call, "Sí, cancele esa cita", "cancel_appointment", appointment_id=appointment.id
    )
    assert not is_error and output.startswith("Cancelled")
    assert (await call.clinic.get_appointment(appointment.id)).status == "cancelled"


@pytest.mark.parametrize("call_options", [CallOptions()])
@pytest.mark.parametrize("voice_sender", [RecordingVoiceSender()])
async def test_a_landline_patient_gets_the_code_by_an_automated_call(
    call: Call, voice_sender: RecordingVoiceSender
) -> None:
    """The OTP service can also place automated calls (a recording voice sender)."""
    output, is_error = await say(
        call, "Texts don't reach me, it's a landline: 415 555 0123. Can you call me instead?",
        "request_otp", patient_phone="415 555 0123", channel="call",
    )  # fmt: skip
    assert not is_error and "ending in 0123" in output
    assert call.sms.sent == [] and len(voice_sender.calls) == 1
    to, _words, language = voice_sender.calls[0]
    assert to == demo.JANE.phone and language == "en"
    code = voice_sender.last_code()  # said twice, one digit at a time
    output, is_error = await say(call, f"The call said {code}", "verify_otp", code=code)
    assert not is_error and "Verified for Jane Doe" in output


@pytest.mark.parametrize("otp_policy", [OtpPolicy(daily_send_budget=1)])
async def test_a_spent_send_budget_is_the_same_sentence_for_everyone(call: Call) -> None:
    """The day's one send goes to Jane; after it, a patient and a stranger hear the same
    sentence, with the offer of a person, and nothing more is sent."""
    first, _ = await say(call, f"Text me at {JANE_PHONE}", "request_otp", patient_phone=JANE_PHONE)
    assert first.startswith("I've texted")
    answers = []
    for number in ("415 555 0188", demo.NOT_ON_FILE_PHONE):
        output, _ = await say(call, f"Now text {number}", "request_otp", patient_phone=number)
        answers.append(output)
    assert answers[0] == answers[1] and answers[0].startswith(SENDING_PAUSED_MESSAGE)
    assert len(call.sms.sent) == 1
    assert phrase("ask_person") not in agent_said(call)  # the sentence itself offers staff
