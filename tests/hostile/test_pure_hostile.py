# ruff: noqa: RUF001  (look-alike characters are the point of these tests)
"""Hostile input to the pure parsers: they raise only what they document, and what they return
is always canonical. The readers of what callers say (`verification.spoken`), the said-rules
(`verification.said`) and the speech filter (`verification.hygiene`) also never raise, read a
bounded amount of any input, and never find a code that is not in the text.

Each property runs `QUICK_EXAMPLES` examples in the default suite and `FUZZ_EXAMPLES`
(10,000) under `-m fuzz`: the test builds its Hypothesis test with the count it was given.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from clinic import parse_date
from clinic.names import name_parts, names_match, normalize_name, parts_match, sound_key
from tests.support.hostile_strategies import (
    FUZZ_EXAMPLES,
    QUICK_EXAMPLES,
    VALID_CODES,
    VALID_DATES,
    VALID_NAMES,
    VALID_PHONES,
    VALID_SPOKEN,
    code_guesses,
    hostile_text,
    turns,
)
from verification import normalize_phone, parse_spoken_code
from verification.hygiene import SpeechFilter, filter_text
from verification.said import MAX_HEARD_CHARS, Said, said_code, said_date, said_name, said_phone
from verification.spoken import parse_spoken_date
from verification.spoken.lexer import lex
from verification.spoken.vocabulary import merged

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
SIX_ASCII_DIGITS = re.compile(r"[0-9]{6}")


def spells_numbers(text: str) -> bool:
    """The text holds a number word of some language we read."""
    every = merged()
    return any(t.kind == "word" and every.is_number_word(t.key) for t in lex(text))


def is_normalized_name(text: str) -> bool:
    """Words of letters, marks and digits in any script, single spaces; "" if uncomparable."""
    return text == "" or all(
        w and all(unicodedata.category(c)[0] in "LMN" for c in w) for w in text.split(" ")
    )


COUNTS = [
    pytest.param(QUICK_EXAMPLES, id="quick"),
    pytest.param(FUZZ_EXAMPLES, id="fuzz", marks=pytest.mark.fuzz),
]


def configured(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- normalize_phone ----------------------------------------------------------------------


def check_normalize_phone(raw: str, region: str = "US") -> None:
    try:
        e164 = normalize_phone(raw, region)
    except ValueError:
        return
    assert E164.fullmatch(e164), (raw, e164)
    assert normalize_phone(e164, region) == e164  # canonical: a fixed point
    assert normalize_phone(e164, "GB") == e164  # and independent of the region once E.164


@pytest.mark.parametrize("examples", COUNTS)
def test_normalize_phone_returns_e164_or_raises_value_error(examples: int) -> None:
    @configured(examples)
    @given(hostile_text(VALID_PHONES), st.sampled_from(["US", "us", "GB", "ZZ", "", "١", "{x}"]))
    @example("＋１ ４１５ ５５５ ０１２３", "US")
    @example("+١٤١٥٥٥٥٠١٢٣", "US")
    @example("\u202e+14155550123", "US")
    @example("+1 415 555 0123\x00", "US")
    @example("+1⁴¹⁵5550123", "US")
    @example("'; DROP TABLE patients; --", "US")
    @example("4" * 100_000, "US")
    @example("+" + "9" * 63, "US")
    @example("\ud800+14155550123", "US")
    def prop(raw: str, region: str) -> None:
        check_normalize_phone(raw, region)

    prop()


def test_normalize_phone_refuses_non_text() -> None:
    for value in (None, 4155550123, b"+14155550123", ["+14155550123"], -1, 2**64):
        with pytest.raises(ValueError):
            normalize_phone(value)  # type: ignore[arg-type]


# -- parse_spoken_code ----------------------------------------------------------------------


def check_spoken_code(text: str) -> None:
    code = parse_spoken_code(text)  # must not raise, whatever the text
    assert code is None or SIX_ASCII_DIGITS.fullmatch(code), (text, code)


@pytest.mark.parametrize("examples", COUNTS)
def test_parse_spoken_code_returns_none_or_six_ascii_digits(examples: int) -> None:
    @configured(examples)
    @given(hostile_text(VALID_CODES))
    @example("４０２９９１")
    @example("٤٠٢٩٩١")
    @example("⁴⁰²⁹⁹¹")
    @example("4０2991")
    @example("four oh two nine nine one\x00")
    @example("\u202efour oh two nine nine one")
    @example("one " * 100_000)
    @example("-402991")
    @example("402991; DROP TABLE otp_challenges; --")
    def prop(text: str) -> None:
        check_spoken_code(text)

    prop()


def test_parse_spoken_code_refuses_look_alike_digits_and_non_text() -> None:
    """The property above would pass if everything came back None; pin the refusals down and
    show the parser does accept the honest forms, so the property is not vacuous."""
    assert parse_spoken_code("four oh two nine nine one") == "402991"
    assert parse_spoken_code("402 991") == "402991"
    for look_alike in ("４０２９９１", "٤٠٢٩٩١", "⁴⁰²⁹⁹¹", "4０2991", "𝟒𝟎𝟐𝟗𝟗𝟏", "①②③④⑤⑥"):
        assert parse_spoken_code(look_alike) is None, look_alike
    for value in (None, 402991, -402991, 2**64, b"402991", ["402991"]):
        assert parse_spoken_code(value) is None  # type: ignore[arg-type]


# -- parse_date -----------------------------------------------------------------------------


def check_parse_date(text: str) -> None:
    try:
        parsed = parse_date(text)
    except ValueError as exc:
        assert str(exc), "the message is read to the caller; it must not be empty"
        return
    assert isinstance(parsed, date)
    # never invents a year: it is in the text as digits, or said in number words
    assert str(parsed.year) in text or f"{parsed.year:04d}" in text or spells_numbers(text)


@pytest.mark.parametrize("examples", COUNTS)
def test_parse_date_returns_a_date_or_raises_value_error(examples: int) -> None:
    @configured(examples)
    @given(hostile_text(VALID_DATES))
    @example("１９８５-04-12")
    @example("April １２ 1985")
    @example("April 12 ١٩٨٥")
    @example("April 12\x00 1985")
    @example("\u202eApril 12 1985")
    @example("0000-01-01")
    @example("9999-12-31")
    @example("-1985-04-12")
    @example("April 99999999999999999999 1985")
    @example("1985-04-12'; DROP TABLE patients; --")
    def prop(text: str) -> None:
        check_parse_date(text)

    prop()


@pytest.mark.parametrize("examples", COUNTS)
def test_parse_date_round_trips_every_calendar_day(examples: int) -> None:
    months = "january february march april may june july august september october november"
    month_names = [*months.split(), "december"]

    @configured(examples)
    @given(st.dates(), st.sampled_from(["", "st", "nd", "rd", "th"]), st.integers(0, 3))
    def prop(day: date, suffix: str, form: int) -> None:
        month = month_names[day.month - 1]
        text = [
            day.isoformat(),
            f"{day.month}/{day.day}/{day.year:04d}",
            f"{month} {day.day}{suffix}, {day.year:04d}",
            f"the {day.day}{suffix} of {month.upper()} {day.year:04d}",
        ][form]
        assert parse_date(text) == day, text

    prop()


def test_parse_date_refuses_non_text() -> None:
    for value in (None, 19850412, -1, 2**64, 1985.0412, b"1985-04-12", ["1985-04-12"]):
        with pytest.raises(ValueError):
            parse_date(value)  # type: ignore[arg-type]


# -- names ----------------------------------------------------------------------------------


def check_names(said: str, on_file: str) -> None:
    normalized = normalize_name(said)
    assert is_normalized_name(normalized), (said, normalized)
    parts = name_parts(said)
    assert all(is_normalized_name(p) and " " not in p for p in parts)
    for part in parts[:3]:
        sound_key(part)
        assert parts_match(part, part)
    match = names_match(said, on_file)
    assert isinstance(match, bool)
    assert match == names_match(on_file, said), "matching must be symmetric"
    if parts:
        assert names_match(said, said), "a name with letters in it matches itself"
    else:
        assert not match, "a name with no letters matches nothing"


@pytest.mark.parametrize("examples", COUNTS)
def test_name_matching_never_raises_and_is_symmetric(examples: int) -> None:
    names = hostile_text(VALID_NAMES)

    @configured(examples)
    @given(names, st.one_of(st.sampled_from(VALID_NAMES), names))
    @example("Jane Doe'; DROP TABLE patients; --", "Jane Doe")
    @example("Ｊａｎｅ Ｄｏｅ", "Jane Doe")
    @example("J\u200bane D\u202eoe", "Jane Doe")
    @example("J\x00ane Doe", "Jane Doe")
    @example("ﬃ" * 200, "ffi")
    @example("Jane " * 20_000 + "Doe", "Jane Doe")
    @example("😀😀", "😀😀")
    @example("\ud800", "Jane Doe")
    def prop(said: str, on_file: str) -> None:
        check_names(said, on_file)

    prop()


def test_names_do_not_match_injection_or_emoji_padding_of_another_name() -> None:
    """Hostile decoration never turns one patient's name into another's."""
    assert names_match("Jane Doe'; DROP TABLE patients; --", "Jane Doe") is False
    assert names_match("Ｊａｎｅ Ｄｏｅ", "Jane Doe") is True  # NFKD folds fullwidth letters
    assert names_match("John Smith 😀", "Jane Doe") is False
    assert names_match("😀", "😀") is False  # no letters: matches nothing, not everything


# -- every language: codes and dates read from words ---------------------------------------


def check_spoken_code_spelled(text: str) -> None:
    """A code comes only from what the text spells: with no number word in it, it is the
    text's own ASCII digits."""
    code = parse_spoken_code(text)
    if code is not None and not spells_numbers(text):
        assert code == "".join(c for c in text if "0" <= c <= "9"), (text, code)


@pytest.mark.parametrize("examples", COUNTS)
def test_parse_spoken_code_never_finds_digits_that_are_not_in_the_text(examples: int) -> None:
    @configured(examples)
    @given(hostile_text(VALID_CODES + VALID_SPOKEN))
    @example("cuatro cero dos nueve nueve uno")
    @example("4 0 2 9 9 1 ٣")
    @example("once 402991")
    def prop(text: str) -> None:
        check_spoken_code(text)
        check_spoken_code_spelled(text)

    prop()


@pytest.mark.parametrize("examples", COUNTS)
def test_parse_spoken_date_returns_a_date_or_none(examples: int) -> None:
    @configured(examples)
    @given(st.one_of(hostile_text(VALID_DATES + VALID_SPOKEN), st.integers(), st.none()))
    @example("doce de abril de mil novecientos ochenta y cinco" * 100)
    @example("mil mil mil novecientos")
    @example("April " + "twenty " * 30 + "1985")
    def prop(text: str) -> None:
        parsed = parse_spoken_date(text)
        assert parsed is None or isinstance(parsed, date)

    prop()


# -- did the caller say it ------------------------------------------------------------------


def covered(place: Said, said: list[str]) -> str:
    """The words a place covers (over a turn boundary, joined by a space)."""
    first, last = said[place.turn][place.start :], said[place.last_turn][: place.end]
    if place.turn == place.last_turn:
        return said[place.turn][place.start : place.end]
    return " ".join([first, *said[place.turn + 1 : place.last_turn], last])


def check_said_code(guess: str, heard: list[object]) -> None:
    place = said_code(guess, heard)  # type: ignore[arg-type]
    if place is None:
        return
    said = [t if isinstance(t, str) else "" for t in heard]
    assert isinstance(guess, str) and guess.isascii() and guess.isdigit()
    # the place holds exactly the guess, read as the code reader reads it: never invented
    assert parse_spoken_code(covered(place, said), len(guess)) == guess, (guess, place)
    assert said_code(guess, heard, used={place}) != place  # type: ignore[arg-type]


@pytest.mark.parametrize("examples", COUNTS)
def test_said_code_never_finds_a_code_that_is_not_in_the_text(examples: int) -> None:
    @configured(examples)
    @given(code_guesses(), turns())
    @example("121985", ["April twelve nineteen eighty five"])
    @example("402991", ["402991 " * 20_000])
    @example("402991", ["1. " * 5_000])
    @example("1", ["1"] * 100_000)
    def prop(guess: str, heard: list[object]) -> None:
        check_said_code(guess, heard)

    prop()


def test_said_code_reads_only_the_latest_words() -> None:
    """However long the call, only the last MAX_HEARD_CHARS characters are read."""

    class Counted(list[str]):
        reads = 0

        def __getitem__(self, index):  # type: ignore[no-untyped-def]
            type(self).reads += 1
            return super().__getitem__(index)

    heard = Counted(["402991"] * 1_000_000)
    place = said_code("402991", heard)
    assert place is not None and place.turn >= len(heard) - MAX_HEARD_CHARS
    assert Counted.reads <= 2 * MAX_HEARD_CHARS
    long_turn = "402991 " + "x" * 1_000_000
    assert said_code("402991", [long_turn]) is None  # said too long ago to be read
    assert said_code("402991", [long_turn + " 402991"]) is not None


@pytest.mark.parametrize("examples", COUNTS)
def test_said_phone_date_and_name_never_raise(examples: int) -> None:
    @configured(examples)
    @given(
        turns(VALID_NAMES),
        st.one_of(st.sampled_from(["+14155550123", "+442079460018"]), hostile_text(VALID_PHONES)),
        st.one_of(st.sampled_from(["US", "GB", "", "ZZ"]), st.lists(st.text(max_size=3))),
        st.one_of(st.dates(), st.none()),
        st.one_of(st.sampled_from(VALID_NAMES), hostile_text(VALID_NAMES)),
    )
    @example(["415 555 0123 " * 10_000], "+14155550123", "US", date(1985, 4, 12), "Jane Doe")
    @example(["April " * 10_000], "+14155550123", ["US"] * 1_000, date(1985, 4, 12), "A " * 500)
    def prop(heard: list[object], phone: str, region: object, day: date, name: str) -> None:
        assert isinstance(said_phone(phone, heard, region), bool)  # type: ignore[arg-type]
        assert isinstance(said_date(day, heard), bool)  # type: ignore[arg-type]
        assert isinstance(said_name(name, heard), bool)  # type: ignore[arg-type]

    prop()


# -- the speech filter ------------------------------------------------------------------------

SIX_DIGITS_IN_A_ROW = re.compile(r"[0-9]{6}")


@pytest.mark.parametrize("examples", COUNTS)
def test_the_speech_filter_never_raises_and_never_says_six_digits_in_a_row(examples: int) -> None:
    @configured(examples)
    @given(hostile_text(VALID_SPOKEN + VALID_CODES + VALID_PHONES), st.integers(1, 50))
    @example("Your code is 402991.", 3)
    @example("April 402991.", 5)
    @example("Your code is 4o2991.", 5)
    @example("x402991y", 1)
    @example("1/1A000000", 1)
    @example("{" + ". " * 50_000, 7)
    @example("4" * 100_000, 1_000)
    def prop(text: str, chunk: int) -> None:
        speech = SpeechFilter(tool_names=["verify_otp"])
        said = "".join(speech.feed(text[i : i + chunk]) for i in range(0, len(text), chunk))
        said += speech.finish()
        assert SIX_DIGITS_IN_A_ROW.search(said) is None, (text, said)
        assert isinstance(speech.only_tool_call, bool)
        assert SIX_DIGITS_IN_A_ROW.search(filter_text(text)) is None

    prop()
