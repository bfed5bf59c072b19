"""The one filter the model's text passes before speech and transcript (agent.speech_filter).

These are the filter's own cases; `test_misbehaving_model.py` drives it through the real
`AgentSession` with a scripted model that writes the same things.
"""

from __future__ import annotations

import pytest

from agent.speech_filter import FALLBACK, SpeechFilter, filter_text

FRONT_DESK = "415 555 0100"


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("Your code is 402991.", "Your code is that code."),
        ("It's four oh two nine nine one, right?", "It's that code, right?"),
        ("Code: 4, 0, 2, 9, 9, 1.", "Code: that code."),
        ("Is your number 415 555 0123? Good.", "Is your number the number ending in 0123? Good."),
        ("Texting +1 (415) 555-0123 now.", "Texting the number ending in 0123 now."),
        ("I have 4155550123 on file.", "I have the number ending in 0123 on file."),
    ],
)
def test_codes_and_phone_numbers_are_never_said(written: str, said: str) -> None:
    assert filter_text(written) == said


@pytest.mark.parametrize(
    "written",
    [
        "You were born April 12 1985, is that right?",
        "We have 9, 10, 11, 13 and 14 open on Tuesday.",
        "Appointment A3K9PX is on Tuesday, December 1st at 10 AM.",
        "The first open day is 2026-12-01.",
        f"Please call the front desk at {FRONT_DESK}, weekdays 8 to 5.",
        "One moment while I check.",
    ],
)
def test_ordinary_speech_passes_unchanged(written: str) -> None:
    assert filter_text(written, [FRONT_DESK]) == written


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ('{"name": "cancel_appointment", "arguments": {"appointment_id": "A3K9PX"}}', FALLBACK),
        ('<tool_call>{"name": "request_otp"}</tool_call>', FALLBACK),
        ('Sure. <tool_call>{"name": "request_otp"}</tool_call>', "Sure. "),
        ('One moment. request_otp(patient_phone="caller") Done.', "One moment. "),
        ('```json\n{"code": "123456"}\n```', FALLBACK),
        ("Let me check. functions.list_appointments({}) ", "Let me check. "),
        ('[{"name": "verify_otp", "arguments": {"code": "402991"}}]', FALLBACK),
    ],
)
def test_text_that_is_a_tool_call_is_never_said(written: str, said: str) -> None:
    assert filter_text(written) == said


def test_a_number_split_over_chunks_is_still_caught() -> None:
    speech = SpeechFilter()
    chunks = ["Your num", "ber is 415 55", "5 01", "23. Shall I", " text it? "]
    out = [speech.feed(chunk) for chunk in chunks]
    out.append(speech.finish())
    assert "".join(out) == "Your number is the number ending in 0123. Shall I text it? "
    assert out[:3] == ["", "", ""]  # nothing leaves before the sentence is complete


def test_an_open_brace_holds_the_text_until_it_closes() -> None:
    speech = SpeechFilter()
    assert speech.feed('Okay. {"name": "verify_otp", ') == "Okay. "
    assert speech.feed('"arguments": {"code": "402991"}}. ') == ""
    assert speech.finish() == ""
