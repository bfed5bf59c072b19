"""Dates as callers say them (and as speech-to-text writes them down).

Accepted, case- and punctuation-insensitive:

* ISO: "1985-04-12", "1985/04/12"
* US numeric, month first: "4/12/1985", "04-12-1985", "4.12.1985"
* a month name with a day and a four-digit year in any order: "April 12 1985",
  "April 12th, 1985", "12 April 1985", "the 12th of April, 1985", "Apr. 12 1985",
  "April twelfth 1985"

Two-digit years are refused ("85" could be 1885, 1985 or 2085) so the agent asks again rather
than guessing. Every failure is a `ValueError` whose message can be read to the caller.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

MAX_DATE_INPUT_CHARS: Final = 80
_MAX_RAW_DATE_CHARS: Final = 4 * MAX_DATE_INPUT_CHARS  # before spaces are collapsed

_MONTHS: Final[dict[str, int]] = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}

_UNIT_ORDINALS: Final = (
    *("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"),
    *("tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth"),
    *("seventeenth", "eighteenth", "nineteenth"),
)
_ORDINAL_WORDS: Final[dict[str, int]] = {
    **{word: n for n, word in enumerate(_UNIT_ORDINALS, start=1)},
    "twentieth": 20,
    **{f"twenty{word}": 20 + n for n, word in enumerate(_UNIT_ORDINALS[:9], start=1)},
    "thirtieth": 30,
    "thirtyfirst": 31,
}
_TENS_JOIN = re.compile(r"\b(twenty|thirty)[\s-]+(?=[a-z])", re.ASCII)

_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", re.ASCII)
_US_NUMERIC = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})", re.ASCII)
_DAY = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?", re.ASCII)
_YEAR = re.compile(r"\d{4}", re.ASCII)
_FILLER: Final = frozenset({"the", "of", "on"})

_HELP = "Please say the date with the month, day and full year, like April 12, 1985."


def parse_date(text: str) -> date:
    """Parse a spoken or typed date; raise `ValueError` (caller-safe message) if it is not one."""
    if not isinstance(text, str):
        raise ValueError("I need the date as words or numbers. " + _HELP)
    if len(text) > _MAX_RAW_DATE_CHARS:  # refuse before any work proportional to the input
        raise ValueError("That is too long to be a date. " + _HELP)
    cleaned = " ".join(text.strip().casefold().split())
    if not cleaned:
        raise ValueError("I didn't catch a date. " + _HELP)
    if len(cleaned) > MAX_DATE_INPUT_CHARS:
        raise ValueError("That is too long to be a date. " + _HELP)
    cleaned = cleaned.rstrip(".")

    if match := _ISO.fullmatch(cleaned):
        year, month, day = (int(g) for g in match.groups())
        return _make_date(year, month, day)
    if match := _US_NUMERIC.fullmatch(cleaned):
        month, day = int(match.group(1)), int(match.group(2))
        if len(match.group(3)) != 4:
            raise ValueError("I need the full four-digit year. " + _HELP)
        return _make_date(int(match.group(3)), month, day)
    return _parse_words(cleaned)


def _parse_words(cleaned: str) -> date:
    """A month name, a day and a four-digit year, in any order, with filler words ignored."""
    joined = _TENS_JOIN.sub(r"\1", cleaned)  # "twenty-first" / "twenty first" -> "twentyfirst"
    tokens = [t for t in re.split(r"[\s,./-]+", joined) if t and t not in _FILLER]
    month: int | None = None
    day: int | None = None
    year: int | None = None
    for token in tokens:
        token = token.rstrip(".")
        if token in _MONTHS and month is None:
            month = _MONTHS[token]
        elif _YEAR.fullmatch(token) and year is None:
            year = int(token)
        elif (m := _DAY.fullmatch(token)) and day is None:
            day = int(m.group(1))
        elif token in _ORDINAL_WORDS and day is None:
            day = _ORDINAL_WORDS[token]
        else:
            raise ValueError("I couldn't understand that date. " + _HELP)
    if month is None:
        raise ValueError("I didn't catch the month. " + _HELP)
    if day is None:
        raise ValueError("I didn't catch the day of the month. " + _HELP)
    if year is None:
        raise ValueError("I didn't catch the full year. " + _HELP)
    return _make_date(year, month, day)


def _make_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError("That isn't a real calendar date. " + _HELP) from None


__all__ = ["MAX_DATE_INPUT_CHARS", "parse_date"]
