# ruff: noqa: RUF001  (look-alike characters are the point of these tests)
"""Hostile input to the pure parsers: they raise only what they document, and what they return
is always canonical.

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
from tests.hostile.strategies import (
    FUZZ_EXAMPLES,
    QUICK_EXAMPLES,
    VALID_CODES,
    VALID_DATES,
    VALID_NAMES,
    VALID_PHONES,
    hostile_text,
)
from verification import normalize_phone, parse_spoken_code

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
SIX_ASCII_DIGITS = re.compile(r"[0-9]{6}")


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
    assert str(parsed.year) in text or f"{parsed.year:04d}" in text  # never invents a year


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
