"""Codes by automated call: TwilioVoiceSender (the real SDK's Calls API against the stand-in),
the console stand-in, and the settings that offer calls.

What the stand-in received is read back as TwiML: every `<Say>` in the call's language, with
a voice that speaks it, saying the text the service rendered. The code is in that TwiML (it
has to be) and nowhere else: not in a log record, not in an error.
"""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator

import pytest

from tests.support.constants import CODE, PHONE, PHONE_DIGITS
from tests.support.standin_server import Reply
from tests.support.twilio_standin import (
    TWILIO_SID,
    TWILIO_TOKEN,
    TwilioStandIn,
    spoken,
    twilio_error,
)
from verification.env import ConfigurationError
from verification.languages import read
from verification.sms import ConsoleVoiceSender, SmsDeliveryError, SmsSettings, VoiceSender
from verification.sms.errors import CALL_TROUBLE
from verification.sms.twilio_voice import TwilioVoiceSender, call_error_verdict

FROM = "+15005550006"
VOICE_NUMBER = "+15005550010"
SPOKEN_CODE = ", ".join(CODE)  # "4, 0, 2, 9, 9, 1": how the service spaces the digits


def voice_body(language: str) -> str:
    """The call's text as the service renders it from the language folder."""
    texts = read(language, "messages")
    minutes = texts["minutes"].format(count=5)
    return str(texts["voice"]).format(
        brand="Bayview Clinic", spoken_code=SPOKEN_CODE, minutes=minutes
    )


@pytest.fixture
async def sender(twilio_standin: TwilioStandIn) -> AsyncIterator[TwilioVoiceSender]:
    # a generous timeout: a loaded test machine is not a slow API (that test makes its own)
    sender = TwilioVoiceSender(
        TWILIO_SID, TWILIO_TOKEN, FROM, base_url=twilio_standin.url, timeout=10.0
    )
    yield sender
    await sender.aclose()


@pytest.mark.parametrize(
    ("language", "tag", "voice"),
    [("en", "en-US", "Polly.Joanna"), ("es", "es-US", "Polly.Lupe")],
)
async def test_the_call_says_the_text_in_the_callers_language(
    sender: TwilioVoiceSender,
    twilio_standin: TwilioStandIn,
    language: str,
    tag: str,
    voice: str,
) -> None:
    body = voice_body(language)
    receipt = await sender.send(PHONE, body, language=language)

    assert receipt.provider == "twilio"
    assert receipt.message_id.startswith("CA") and len(receipt.message_id) == 34
    [call] = twilio_standin.calls
    assert call.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Calls.json"
    assert (call.form["To"], call.form["From"]) == (PHONE, FROM)
    assert (call.form["Timeout"], call.form["TimeLimit"]) == ("30", "120")
    said = spoken(call)
    assert " ".join(s.text for s in said) == body  # every word, sentence by sentence
    assert {(s.language, s.voice) for s in said} == {(tag, voice)}
    assert sum(SPOKEN_CODE in s.text for s in said) == 2, "the code is said twice"
    # a pause first (the phone reaches the ear) and after every sentence
    assert call.form["Twiml"].count("<Pause") == len(said) + 1
    assert call.form["Twiml"].startswith("<Response><Pause")


async def test_a_language_without_a_folder_is_said_in_the_default_language(
    sender: TwilioVoiceSender, twilio_standin: TwilioStandIn
) -> None:
    await sender.send(PHONE, voice_body("en"), language="xx")
    assert {(s.language, s.voice) for s in spoken(twilio_standin.calls[0])} == {
        ("en-US", "Polly.Joanna")
    }


async def test_text_that_looks_like_markup_is_said_not_obeyed(
    sender: TwilioVoiceSender, twilio_standin: TwilioStandIn
) -> None:
    body = 'Hello from <Dial>+19005550000</Dial> & "friends". Your code is 1, 2, 3.'
    await sender.send(PHONE, body)
    said = spoken(twilio_standin.calls[0])
    assert [s.text for s in said] == [
        'Hello from <Dial>+19005550000</Dial> & "friends".',
        "Your code is 1, 2, 3.",
    ]
    assert "<Dial>" not in twilio_standin.calls[0].form["Twiml"]


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        (21211, False),
        (21214, False),
        (21215, False),
        (21216, False),
        (20429, True),
        (21210, True),
        (20003, True),
    ],
)
async def test_twilio_call_errors_are_mapped_like_the_sms_verdicts(
    sender: TwilioVoiceSender, twilio_standin: TwilioStandIn, code: int, retryable: bool
) -> None:
    twilio_standin.fail(twilio_error(code))
    with pytest.raises(SmsDeliveryError) as caught:
        await sender.send(PHONE, voice_body("en"))
    err = caught.value
    assert (err.provider, err.code, err.retryable) == ("twilio", code, retryable)
    assert "call" in (err.reason or "") and "text" not in (err.reason or "")
    assert PHONE not in str(err) and "ending in 0123" in str(err)
    assert err.__cause__ is None and err.__suppress_context__  # Twilio's text quotes the number


@pytest.mark.parametrize("reply", [Reply(503, raw="<html>down</html>"), Reply(429, raw="slow")])
async def test_5xx_and_throttling_are_retryable(
    sender: TwilioVoiceSender, twilio_standin: TwilioStandIn, reply: Reply
) -> None:
    twilio_standin.fail(reply)
    with pytest.raises(SmsDeliveryError) as caught:
        await sender.send(PHONE, voice_body("en"))
    assert caught.value.retryable and caught.value.reason == CALL_TROUBLE


async def test_a_slow_api_times_out_as_retryable(twilio_standin: TwilioStandIn) -> None:
    twilio_standin.delay = 3.0
    sender = TwilioVoiceSender(
        TWILIO_SID, TWILIO_TOKEN, FROM, base_url=twilio_standin.url, timeout=0.5
    )
    try:
        with pytest.raises(SmsDeliveryError) as caught:
            await sender.send(PHONE, voice_body("en"))
    finally:
        await sender.aclose()
    assert caught.value.retryable and caught.value.code == "timeout"


def test_the_call_verdict_table() -> None:
    assert call_error_verdict(400, 21219).misconfigured  # a trial account's unverified number
    assert call_error_verdict(401, None).misconfigured
    assert not call_error_verdict(400, 21215).retryable
    assert call_error_verdict(502, None).retryable
    assert call_error_verdict(400, 99999).retryable


async def test_logs_hold_the_masked_number_and_never_the_code_or_the_text(
    sender: TwilioVoiceSender, twilio_standin: TwilioStandIn, all_logs: logging.Handler
) -> None:
    body = voice_body("es")
    await sender.send(PHONE, body, language="es")
    for code in (21211, 20003):
        twilio_standin.fail(twilio_error(code), times=1)
        with pytest.raises(SmsDeliveryError):
            await sender.send(PHONE, body, language="es")
    assert all(SPOKEN_CODE in c.form["Twiml"] for c in twilio_standin.calls)
    records = all_logs.texts()  # type: ignore[attr-defined]
    assert any("ending in 0123" in r for r in records), "capture is broken"
    for text in records:
        for secret in (SPOKEN_CODE, CODE, PHONE, PHONE_DIGITS, body, "Twiml", TWILIO_TOKEN):
            assert secret not in text, f"{secret!r} leaked into: {text[:300]!r}"


async def test_the_console_stand_in_prints_a_dev_call_block_and_logs_nothing(
    all_logs: logging.Handler,
) -> None:
    stream = io.StringIO()
    sender: VoiceSender = ConsoleVoiceSender(stream)
    body = voice_body("es")
    receipt = await sender.send(PHONE, body, language="es")
    printed = stream.getvalue()
    assert printed.startswith("\n[DEV CALL - not placed; development stand-in] in es to the")
    assert "ending in 0123" in printed and body in printed and PHONE not in printed
    assert receipt.provider == "console"
    assert not any(CODE in r or SPOKEN_CODE in r for r in all_logs.texts())  # type: ignore[attr-defined]


# --- settings ----------------------------------------------------------------------------

TWILIO_ENV = {
    "TWILIO_ACCOUNT_SID": TWILIO_SID,
    "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    "TWILIO_PHONE_NUMBER": FROM,
}


def test_calls_are_not_offered_unless_asked_for() -> None:
    assert SmsSettings.from_env(TWILIO_ENV).build_voice_sender() is None
    assert SmsSettings.from_env({"VOICE_CALLS": "false"}).build_voice_sender() is None


def test_in_development_without_twilio_calls_go_to_the_console() -> None:
    sender = SmsSettings.from_env({"VOICE_CALLS": "true"}).build_voice_sender()
    assert isinstance(sender, ConsoleVoiceSender)


async def test_twilio_calls_come_from_the_voice_number(twilio_standin: TwilioStandIn) -> None:
    env = {
        **TWILIO_ENV,
        "TWILIO_BASE_URL": twilio_standin.url,
        "VOICE_CALLS": "true",
        "TWILIO_VOICE_NUMBER": VOICE_NUMBER,
    }
    settings = SmsSettings.from_env(env)
    assert settings.voice.from_number == VOICE_NUMBER
    sender = settings.build_voice_sender()
    assert isinstance(sender, TwilioVoiceSender)
    try:
        await sender.send(PHONE, voice_body("en"))
    finally:
        await sender.aclose()
    assert twilio_standin.calls[0].form["From"] == VOICE_NUMBER
    without = SmsSettings.from_env({**TWILIO_ENV, "VOICE_CALLS": "true"})
    assert without.voice.from_number == FROM  # TWILIO_PHONE_NUMBER when no voice number


CALLS = {"VOICE_CALLS": "true"}


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({**CALLS, "APP_ENV": "production", **TWILIO_ENV, "VOICE_PROVIDER": "console"},
         "console calls print codes"),
        ({"VOICE_CALLS": "true", "VOICE_PROVIDER": "pigeon"}, "VOICE_PROVIDER must be twilio or"),
        ({"VOICE_CALLS": "true", "VOICE_PROVIDER": "twilio"}, "TWILIO_ACCOUNT_SID"),
        (
            {"VOICE_CALLS": "true", "TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": "t",
             "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32},
            "voice provider 'twilio' is missing TWILIO_VOICE_NUMBER or TWILIO_PHONE_NUMBER",
        ),
        ({"VOICE_CALLS": "maybe"}, "VOICE_CALLS must be true or false"),
    ],
)  # fmt: skip
def test_unsafe_or_incomplete_call_settings_refuse_to_start(
    env: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ConfigurationError, match=complaint):
        SmsSettings.from_env(env)


def test_constructor_refuses_a_missing_number() -> None:
    with pytest.raises(ValueError, match="voice-capable number"):
        TwilioVoiceSender(TWILIO_SID, TWILIO_TOKEN, "")
