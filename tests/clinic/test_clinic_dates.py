"""parse_date: the date formats callers and speech-to-text produce, and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic import parse_date

APRIL_12 = date(1985, 4, 12)
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "April 12 1985",
        "April 12th, 1985",
        "april 12TH 1985",
        "12 April 1985",
        "12th April, 1985",
        "the 12th of April, 1985",
        "April the twelfth, 1985",
        "Apr. 12, 1985",
        "apr 12 1985.",
        "1985 April 12",
        "4/12/1985",
        "04/12/1985",
        "1985-04-12",
        "1985/4/12",
        "04-12-1985",
        "4.12.1985",
        "  April   12 ,  1985  ",
    ],
)
def test_accepts_spoken_and_written_forms(text: str) -> None:
    assert parse_date(text) == APRIL_12


def test_numeric_dates_are_us_month_first() -> None:
    assert parse_date("3/4/2000") == date(2000, 3, 4)
    assert parse_date("12/04/1985") == date(1985, 12, 4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("March twenty-first 1990", date(1990, 3, 21)),
        ("March twenty first 1990", date(1990, 3, 21)),
        ("the thirty-first of December 1999", date(1999, 12, 31)),
        ("1st of May 2001", date(2001, 5, 1)),
        ("Sept 2nd 2003", date(2003, 9, 2)),
        ("February 29 2000", date(2000, 2, 29)),
    ],
)
def test_other_dates(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "didn't catch a date"),
        ("   ", "didn't catch a date"),
        ("hello", "couldn't understand"),
        ("April 1985", "day"),
        ("April 12", "year"),
        ("12 1985", "month"),
        ("April 31 1985", "real calendar date"),
        ("February 29 2001", "real calendar date"),
        ("2/30/2020", "real calendar date"),
        ("13/12/1985", "real calendar date"),
        ("4/12/85", "four-digit year"),
        ("April 12 1985 1986", "couldn't understand"),
        ("April May 12 1985", "couldn't understand"),
        ("April 12 85", "couldn't understand"),
        ("1" * 200, "too long"),
        ("\uff11\uff19\uff18\uff15-\uff10\uff14-\uff11\uff12", "couldn't understand"),  # full-width
    ],
)
def test_rejects_with_a_clear_value_error(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_date(text)


def test_non_text_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_date(19850412)  # type: ignore[arg-type]


_SUFFIX = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}

FORMATS: list[Callable[[date], str]] = [
    lambda d: d.isoformat(),
    lambda d: f"{d.month}/{d.day}/{d.year}",
    lambda d: f"{d.month:02d}-{d.day:02d}-{d.year}",
    lambda d: f"{MONTHS[d.month - 1]} {d.day} {d.year}",
    lambda d: f"{MONTHS[d.month - 1]} {d.day}{_SUFFIX.get(d.day, 'th')}, {d.year}",
    lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    lambda d: f"the {d.day}{_SUFFIX.get(d.day, 'th')} of {MONTHS[d.month - 1].upper()} {d.year}",
    lambda d: f"{MONTHS[d.month - 1][:3]}. {d.day}, {d.year}",
]


@given(
    day=st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)),
    fmt=st.sampled_from(FORMATS),
)
def test_round_trips_formatted_dates(day: date, fmt: Callable[[date], str]) -> None:
    assert parse_date(fmt(day)) == day


_DATEISH = st.text(alphabet="0123456789/-., thndrsofAaprilJanuyMchDecmbe\t", max_size=40)


@given(text=st.one_of(st.text(max_size=120), _DATEISH))
def test_only_ever_raises_value_error(text: str) -> None:
    try:
        result = parse_date(text)
    except ValueError as exc:
        assert str(exc)
    else:
        assert isinstance(result, date)


@pytest.mark.fuzz
@settings(max_examples=10_000, deadline=None)
@given(text=st.one_of(st.text(max_size=120), _DATEISH))
def test_only_ever_raises_value_error_long_run(text: str) -> None:
    test_only_ever_raises_value_error.hypothesis.inner_test(text)  # type: ignore[attr-defined]


class _Recording(str):
    """A string that notes whether parse_date did any work on it."""

    touched = False

    def strip(self, chars: str | None = None) -> str:
        type(self).touched = True
        return super().strip(chars)


def test_oversize_input_is_refused_before_any_work() -> None:
    """However long the text, parsing costs nothing before it is refused (no loop stall)."""
    huge = _Recording("April " + " " * 5_000_000 + "12 1985")
    with pytest.raises(ValueError, match="too long"):
        parse_date(huge)
    assert not _Recording.touched
