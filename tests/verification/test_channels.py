"""A code by text or by automated call, in the call's language (issue 19 items 1 and 2), on
SQLite and a real Redis: the same limits, cooldowns and decoys for both channels."""

from __future__ import annotations

import pytest

from tests.support.constants import NOT_ON_FILE, ON_FILE
from tests.support.recording_voice import RecordingVoiceSender
from tests.support.services import ServiceFactory
from tests.support.sms import RecordingSmsSender
from tests.support.sms_segments import UCS2_SINGLE, is_gsm7, segments
from verification import OtpPolicy, OtpService, SmsDeliveryError
from verification.outcomes import CALLS_UNAVAILABLE_MESSAGE

FAST = OtpPolicy(resend_cooldown_seconds=0)


@pytest.fixture
def voice() -> RecordingVoiceSender:
    return RecordingVoiceSender()


# -- the text in the call's language ------------------------------------------------------


async def test_the_text_goes_out_in_the_calls_language(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    service = make_service()
    await service.request_code(ON_FILE, session_id="c", language="es")
    await service.request_code(ON_FILE, session_id="d", caller_phone="+12125550100", language="xx")
    await service.drain()
    spanish, fallback = (body for _, body in sender.sent)
    assert spanish.startswith("Código de Bayview Clinic: ") and "Vence en 5 minutos." in spanish
    assert fallback.startswith("Bayview Clinic: your verification code is ")  # unknown: English
    code = sender.sent[0][1].split(": ")[1][:6]
    assert (await service.verify_code(ON_FILE, code, session_id="c")).verified


def test_the_english_text_is_one_plain_segment_with_a_long_host_name(
    make_service: ServiceFactory,
) -> None:
    """GSM-7: 160 characters in one segment, room for a host name of 60."""
    body = make_service(OtpPolicy(ttl_seconds=600)).sms_body("402991")
    long_name = body.replace("Bayview Clinic", "B" * 60)
    assert is_gsm7(long_name) and segments(long_name) == 1


@pytest.mark.parametrize(("brand", "parts"), [("Bayview Clinic", 1), ("B" * 15, 1), ("B" * 16, 2)])
def test_the_spanish_text_is_accented_and_fits_one_segment_with_a_name_of_15(
    make_service: ServiceFactory, brand: str, parts: int
) -> None:
    """ "código" has an "ó", outside GSM-7, so the text goes as UCS-2, where one segment
    holds 70 characters (not 160). The Spanish text is written to that limit: one segment
    with a host name of up to 15 characters and a lifetime under 10 minutes; a longer name
    costs a second segment rather than a misspelt word."""
    service = make_service()
    body = service.code_message("402991", "sms", "es").replace("Bayview Clinic", brand)
    assert body == f"Código de {brand}: 402991. Vence en 5 minutos. No lo comparta."
    assert not is_gsm7(body) and UCS2_SINGLE == 70
    assert segments(body) == parts


@pytest.mark.parametrize(("language", "again"), [("en", "Again, your code is"), ("es", "Repito")])
def test_a_call_says_the_digits_one_at_a_time_twice_in_its_language(
    make_service: ServiceFactory, language: str, again: str
) -> None:
    words = make_service().code_message("402991", "call", language)
    assert words.count("4, 0, 2, 9, 9, 1") == 2 and again in words
    assert "402991" not in words  # never as one number a voice would read as "four hundred..."


# -- a code by automated call -----------------------------------------------------------


async def test_a_code_by_call_goes_to_the_number_on_file_and_verifies(
    make_service: ServiceFactory, sender: RecordingSmsSender, voice: RecordingVoiceSender
) -> None:
    service = make_service(voice_sender=voice)
    asked = await service.request_code(ON_FILE, session_id="c", channel="call", language="es")
    await service.drain()
    assert asked.status == "sent" and asked.code_pending and asked.channel == "call"
    assert asked.message.startswith("I'm calling the number ending in 0123 now")
    assert sender.sent == [] and [(to, lang) for to, _, lang in voice.calls] == [(ON_FILE, "es")]
    assert voice.calls[0][1].startswith("Hola, le llama Bayview Clinic.")
    assert (await service.verify_code(ON_FILE, voice.last_code(), session_id="c")).verified


async def test_a_call_for_a_number_not_on_file_sounds_the_same_and_calls_no_one(
    make_service: ServiceFactory, voice: RecordingVoiceSender
) -> None:
    service = make_service(OtpPolicy(max_attempts=3), voice_sender=voice)
    real = await service.request_code(ON_FILE, session_id="real", channel="call")
    decoy = await service.request_code(NOT_ON_FILE, session_id="decoy", channel="call")
    await service.drain()
    assert [to for to, _, _ in voice.calls] == [ON_FILE]
    assert (decoy.status, decoy.message.replace("0199", "0123")) == (real.status, real.message)
    for _ in range(3):
        real_guess = await service.verify_code(ON_FILE, "000000", session_id="real")
        decoy_guess = await service.verify_code(NOT_ON_FILE, "000000", session_id="decoy")
        if real_guess.verified:
            pytest.skip("drew 000000 as the real code")
        assert (real_guess.status, real_guess.message) == (decoy_guess.status, decoy_guess.message)


async def test_calls_and_texts_share_one_cooldown_and_one_ceiling(
    make_service: ServiceFactory, sender: RecordingSmsSender, voice: RecordingVoiceSender
) -> None:
    service = make_service(
        OtpPolicy(max_phone_sends=2, resend_cooldown_seconds=30), voice_sender=voice
    )
    assert (await service.request_code(ON_FILE, session_id="a", channel="call")).sent
    cooling = await service.request_code(ON_FILE, session_id="a", channel="sms")
    assert cooling.status == "cooldown" and cooling.code_pending
    assert (await service.request_code(ON_FILE, session_id="b", channel="sms")).sent
    full = await service.request_code(ON_FILE, session_id="c", channel="call")
    await service.drain()
    assert full.status == "rate_limited"
    assert (len(voice.calls), len(sender.sent)) == (1, 1)


async def test_a_call_that_may_have_been_placed_counts(
    make_service: ServiceFactory, voice: RecordingVoiceSender
) -> None:
    """Like a text: a failed call keeps its cooldown and send (a decoy never fails, so giving
    them back would tell a patient's number from a stranger's)."""
    service = make_service(OtpPolicy(resend_cooldown_seconds=30), voice_sender=voice)
    voice.fail_with = SmsDeliveryError("no answer", provider="twilio", retryable=True, code=500)
    first = await service.request_code(ON_FILE, session_id="c", channel="call")
    await service.drain()
    voice.fail_with = None
    again = await service.request_code(ON_FILE, session_id="c", channel="call")
    assert first.status == "sent" and again.status == "cooldown" and voice.calls == []


async def test_without_a_voice_sender_a_call_is_refused_the_same_for_everyone(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    """Nothing is looked up or counted: the answer cannot depend on who is on file, and the
    caller can still have a text straight away."""
    service = make_service(OtpPolicy(resend_cooldown_seconds=30))
    answers = [
        await service.request_code(phone, session_id="c", channel="call")
        for phone in (ON_FILE, NOT_ON_FILE)
    ]
    assert [(a.status, a.message, a.code_pending) for a in answers] == [
        ("unavailable", CALLS_UNAVAILABLE_MESSAGE, False)
    ] * 2
    assert (await service.request_code(ON_FILE, session_id="c")).sent  # no cooldown was taken
    await service.drain()
    assert len(sender.sent) == 1


async def test_a_channel_that_is_not_one_is_refused(make_service: ServiceFactory) -> None:
    with pytest.raises(ValueError, match="channel"):
        await make_service().request_code(ON_FILE, session_id="c", channel="fax")  # type: ignore[arg-type]


async def test_a_send_only_voice_sender_closes_cleanly(
    make_service: ServiceFactory, voice: RecordingVoiceSender
) -> None:
    """Issue 16.5: `aclose` is optional for senders, voice senders too."""
    service: OtpService = make_service(voice_sender=voice)
    await service.request_code(ON_FILE, session_id="c", channel="call")
    await service.aclose()
    assert len(voice.calls) == 1
