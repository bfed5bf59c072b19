"""verification.hygiene: no code, full phone number or tool-call text reaches speech.

Moved from tests/agent/test_speech_filter.py with the filter (agent/speech_filter.py ->
verification/hygiene.py) and extended with every rendering issue 15 lists: each case in
`NEW_RENDERINGS` passed the old filter unchanged. `test_misbehaving_model.py` drives the
filter through the real `AgentSession` with a scripted model.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verification.hygiene import SpeechFilter, filter_text

FRONT_DESK = "415 555 0100"
TOOLS = ("verify_otp", "request_otp", "list_appointments", "cancel_appointment")
EN = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ES = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]


def streamed(chunks: list[str], **kwargs: object) -> str:
    speech = SpeechFilter(**kwargs)  # type: ignore[arg-type]
    return "".join(speech.feed(chunk) for chunk in chunks) + speech.finish()


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("Your code is 402991.", "Your code is that code."),
        ("It's four oh two nine nine one, right?", "It's that code, right?"),
        ("Code: 4, 0, 2, 9, 9, 1.", "Code: that code."),
        ("Is your number 415 555 0123? Good.", "Is your number the number ending in 0123? Good."),
        ("Texting +1 (415) 555-0123 now.", "Texting the number ending in 0123 now."),
        ("I have 4155550123 on file.", "I have the number ending in 0123 on file."),
        ("Your number is 415 - 555 - 0123.", "Your number is the number ending in 0123."),
        ("The code is 40 29 91.", "The code is that code."),
        ("The code is four, oh, two, nine, nine, one.", "The code is that code."),
        ("The code is 4 0 2 9 9 1", "The code is that code"),
        ("The code is \uff14\uff10\uff12\uff19\uff19\uff11.", "The code is that code."),
        ("The code is \u0664\u0660\u0662\u0669\u0669\u0661.", "The code is that code."),
    ],
)
def test_codes_and_phone_numbers_are_never_said(written: str, said: str) -> None:
    assert filter_text(written) == said


NEW_RENDERINGS = [
    (
        "The first digit is four. The second is oh. Then two. Then nine, nine and one.",
        "The first digit is that code. The second is that code. Then that code. Then that code.",
    ),
    ("Your code is in April: April 40 2991.", "Your code is in April: April that code."),
    ("Your number is 415, 555, 0123.", "Your number is the number ending in 0123."),
    ("Your number is 415\u2013555\u20130123.", "Your number is the number ending in 0123."),
    ("Your number is 415\u2014555\u20140123.", "Your number is the number ending in 0123."),
    ("Your number is 415/555/0123.", "Your number is the number ending in 0123."),
    ("The code is 402,991.", "The code is that code."),
    ("The code is 402 and 991.", "The code is that code."),
    ("The code is forty, twenty-nine, ninety-one.", "The code is that code."),
    ("The code is twelve thirty four fifty six.", "The code is that code."),
    ("The code is double four, two nine nine one.", "The code is that code."),
    ("The code is four hundred two, nine hundred ninety one.", "The code is that code."),
    (
        "Your code is four oh two. Nine nine one. Right?",
        "Your code is that code. That code. Right?",
    ),
    (
        "Your code is 402. And then 991. Right?",
        "Your code is that code. And then that code. Right?",
    ),
    (
        "It's four one five. Five five five. Oh one two three.",
        "It's that code. That code. That code.",
    ),
    ("Su código es cuatro cero dos nueve nueve uno.", "Su código es that code."),
    ("Su código es cuatro, cero, dos, nueve, nueve, uno.", "Su código es that code."),
    ("Su código es cuarenta, veintinueve, noventa y uno.", "Su código es that code."),
    (
        "Su número es cuatro uno cinco, cinco cinco cinco, cero uno dos tres.",
        "Su número es the number ending in 0123.",
    ),
]


@pytest.mark.parametrize(("written", "said"), NEW_RENDERINGS)
def test_every_rendering_of_a_code_or_phone_number_is_caught(written: str, said: str) -> None:
    assert filter_text(written, [FRONT_DESK]) == said


@pytest.mark.parametrize(
    "written",
    [
        "You were born April 12 1985, is that right?",
        "We have 9, 10, 11, 13 and 14 open on Tuesday.",
        "Appointment A3K9PX is on Tuesday, December 1st at 10 AM.",
        "The first open day is 2026-12-01.",
        f"Please call the front desk at {FRONT_DESK}, weekdays 8 to 5.",
        "One moment while I check.",
        # and, new: dates, times, prices, years and counts in words or in Spanish
        "You were born April twelve nineteen eighty five, is that right?",
        "You were born on the 12th of April, 1985.",
        "Nació el doce de abril de mil novecientos ochenta y cinco.",
        "Your visit is on 12/01 at 10:30.",
        "The copay is $1,250.00, due by 4/12/2026.",
        "The visit costs 45 dollars and lasts 30 minutes.",
        "I can book one for you. Would you like the one at ten? Or one at eleven?",
        "Tiene una cita el lunes a las diez de la mañana.",
        "We opened in 1998 and moved in 2012.",
        f"Call {FRONT_DESK} or +1 (415) 555-0100 to reach us.",
        "Oh, I see. Two appointments, then.",
        # what the code tools themselves say (a count, a masked number, a lifetime): the
        # first filter summed these into six digits and said "a that code-digit code"
        "I've texted a 6-digit code to the number ending in 0123. It expires in 5 minutes.",
        "That code isn't right. You have 2 more tries.",
        "Le envié un código de 6 dígitos al número terminado en 0123. Vence en 5 minutos.",
    ],
)
def test_ordinary_speech_passes_unchanged(written: str) -> None:
    assert filter_text(written, [FRONT_DESK]) == written


def test_the_words_put_in_place_of_a_number_are_in_the_filters_language() -> None:
    assert filter_text("Su código es 402991.", language="es") == "Su código es ese código."
    assert (
        filter_text("Su número es 415 555 0123.", language="es")
        == "Su número es el número que termina en 0123."
    )


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ('{"name": "cancel_appointment", "arguments": {"appointment_id": "A3K9PX"}}', ""),
        ('<tool_call>{"name": "request_otp"}</tool_call>', ""),
        ('Sure. <tool_call>{"name": "request_otp"}</tool_call>', "Sure. "),
        ('One moment. request_otp(patient_phone="caller") Done.', "One moment. "),
        ('```json\n{"code": "123456"}\n```', ""),
        ("Let me check. functions.list_appointments({}) ", "Let me check. "),
        ('[{"name": "verify_otp", "arguments": {"code": "402991"}}]', ""),
        ("Checking. verify_otp: 402991", "Checking. "),
    ],
)
def test_text_that_is_a_tool_call_is_never_said(written: str, said: str) -> None:
    assert filter_text(written, tool_names=TOOLS) == said


def test_a_hosts_tool_names_are_its_own() -> None:
    """A name written as a call is a tool call only for the host's tools."""
    assert filter_text("Use lookup_order(42) now. Bye.", tool_names=["lookup_order"]) == "Bye."
    assert filter_text("We can book(it) for you.") == "We can book(it) for you."


def test_only_tool_call_tells_the_host_that_nothing_else_was_written() -> None:
    speech = SpeechFilter(tool_names=TOOLS)
    assert speech.feed('{"name": "verify_otp", "arguments": {"code": "402991"}}') == ""
    assert speech.finish() == ""  # the host decides what the caller hears
    assert speech.only_tool_call

    speech = SpeechFilter(tool_names=TOOLS)
    said = speech.feed("Sure. ") + speech.feed('request_otp(patient_phone="caller")')
    assert said + speech.finish() == "Sure. "
    assert not speech.only_tool_call  # the caller heard something

    speech = SpeechFilter()
    assert speech.feed("Hello. ") + speech.finish() == "Hello. "
    assert not speech.only_tool_call


def test_a_number_split_over_chunks_is_still_caught() -> None:
    speech = SpeechFilter()
    chunks = ["Your num", "ber is 415 55", "5 01", "23. Shall I", " text it? "]
    out = [speech.feed(chunk) for chunk in chunks]
    out.append(speech.finish())
    assert "".join(out) == "Your number is the number ending in 0123. Shall I text it? "
    assert out[:3] == ["", "", ""]  # nothing leaves before the sentence is complete


def test_a_sentence_with_a_few_digits_waits_for_the_next_one() -> None:
    speech = SpeechFilter()
    assert speech.feed("Your code is four oh two. Nine") == ""  # three digits: wait
    assert speech.feed(" nine one. Is") == "Your code is that code. That code. "
    assert speech.feed(" that right? Bye") == "Is that right? "
    assert speech.finish() == "Bye"

    speech = SpeechFilter()
    assert speech.feed("You have 2 visits. Shall") == ""
    assert speech.feed(" I read them? Room") == "You have 2 visits. Shall I read them? "
    assert speech.feed(" 4. ") == ""
    assert speech.finish() == "Room 4. "


def test_an_open_brace_holds_the_text_until_it_closes() -> None:
    speech = SpeechFilter()
    assert speech.feed('Okay. {"name": "verify_otp", ') == "Okay. "
    assert speech.feed('"arguments": {"code": "402991"}}. ') == ""
    assert speech.finish() == ""


def test_a_reply_with_no_sentence_end_is_cut_rather_than_held_forever() -> None:
    speech = SpeechFilter()
    said = speech.feed("word " * 1_000)
    assert said.startswith("word word")
    assert "402991" not in speech.feed("402991 ") + speech.finish()


_CODE = st.text(alphabet="0123456789", min_size=6, max_size=6)
_SEPARATORS = [" ", ", ", "-", "\u2013", "/", ".", " and ", ", um, "]


def _grouped(digits: str, sizes: list[int], separator: str) -> str:
    groups, at = [], 0
    for size in sizes:
        groups.append(digits[at : at + size])
        at += size
    return separator.join(groups)


@given(
    code=_CODE,
    sizes=st.sampled_from([[6], [3, 3], [2, 2, 2], [1] * 6, [4, 2]]),
    separator=st.sampled_from(_SEPARATORS),
    words=st.sampled_from([None, EN, ES]),
    template=st.sampled_from(["Your code is {}.", "{} is the code.", "Su código es {}, ¿verdad?"]),
)
def test_any_rendering_of_a_code_is_hidden(
    code: str, sizes: list[int], separator: str, words: list[str] | None, template: str
) -> None:
    if words is not None:
        code_text = separator.join(words[int(d)] for d in code)
    else:
        code_text = _grouped(code, sizes, separator)
    said = filter_text(template.format(code_text))
    assert said == template.format("that code").replace("That code", "that code") or (
        said == template.format("That code")
    )


@given(
    exchange=st.integers(200, 999),
    line=st.integers(0, 9999),
    separator=st.sampled_from(_SEPARATORS),
    country=st.sampled_from(["", "+1 ", "1-", "+1-"]),
)
def test_any_rendering_of_a_phone_number_is_hidden(
    exchange: int, line: int, separator: str, country: str
) -> None:
    number = f"{country}415{separator}{exchange}{separator}{line:04d}"
    assert filter_text(f"I have {number} on file.") == (
        f"I have the number ending in {line:04d} on file."
    )


@given(
    text=st.sampled_from([w for w, _ in NEW_RENDERINGS] + ['Ok. {"a": 1} Bye. ', "Hi 12. 34"]),
    cuts=st.lists(st.integers(0, 200), max_size=6),
)
def test_how_the_text_is_chunked_changes_nothing(text: str, cuts: list[int]) -> None:
    points = sorted({min(c, len(text)) for c in cuts})
    chunks = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    assert streamed(chunks, allowed_numbers=[FRONT_DESK]) == filter_text(text, [FRONT_DESK])
