"""Dates as callers say them (and as speech-to-text writes them down), in every language.

Accepted, case-, accent- and punctuation-insensitive:

* ISO: "1985-04-12", "1985/04/12"
* US numeric, month first: "4/12/1985", "04-12-1985", "4.12.1985"
* a month name with a day and a four-digit year, in any order, the day and year as numerals
  or words of any language we have: "April 12 1985", "April 12th, 1985", "12 April 1985",
  "the 12th of April, 1985", "Apr. 12 1985", "April twelfth nineteen eighty five",
  "doce de abril de mil novecientos ochenta y cinco", "1º de mayo de 2001"

Two-digit years are refused ("85" could be 1885, 1985 or 2085) so the agent asks again rather
than guessing, and so are words that read as two different dates. `read_date` raises a
`ValueError` whose message can be read to the caller; `parse_spoken_date` returns `None`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Final

from .lexer import MIXED, NUM, SEP, SOFT, SPACE, WORD, Token, lex
from .numbers import read_day, read_year
from .vocabulary import Vocabulary, merged

MAX_DATE_INPUT_CHARS: Final = 80
_MAX_RAW_DATE_CHARS: Final = 4 * MAX_DATE_INPUT_CHARS  # before spaces are collapsed

_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", re.ASCII)
_US_NUMERIC = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})", re.ASCII)

_HELP = "Please say the date with the month, day and full year, like April 12, 1985."


def read_date(text: str) -> date:
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
    return _read_words(cleaned, merged())


def parse_spoken_date(text: str) -> date | None:
    """The date `text` says, or `None` (the rules of `read_date`)."""
    try:
        return read_date(text)
    except ValueError:
        return None


def _is_number_part(token: Token, words: Vocabulary) -> bool:
    if token.kind in (NUM, MIXED):
        return True
    key = token.key
    return words.is_number_word(key) or key in words.joiners or key in words.ordinals


def _cuts(side: Sequence[Token]) -> Iterator[tuple[Sequence[Token], ...]]:
    """Every way to cut one side of the month into at most two pieces."""
    if not side:
        yield ()
        return
    yield (side,)
    for at in range(1, len(side)):
        yield side[:at], side[at:]


def _orders(
    pieces: tuple[Sequence[Token], ...], *, same_side: bool
) -> Iterator[tuple[Sequence[Token], Sequence[Token]]]:
    """(day, year) readings of two pieces. On one side of the month the day comes first,
    unless the year is a numeral ("April 1985 12"): "April twelve eighty five" is not the
    5th of April 1280."""
    yield pieces[0], pieces[1]
    if not same_side or (len(pieces[0]) == 1 and pieces[0][0].kind == NUM):
        yield pieces[1], pieces[0]


def _read_words(cleaned: str, words: Vocabulary) -> date:
    """A month name, a day and a four-digit year, in any order, with filler words ignored."""
    months: list[int] = []
    sides: tuple[list[Token], list[Token]] = ([], [])
    for token in lex(cleaned):
        if token.kind in (SPACE, SEP) or (token.kind == SOFT and token.text == "."):
            continue
        if token.kind == WORD and token.key in words.months:
            months.append(words.months[token.key])
        elif token.kind == WORD and token.key in words.date_fillers:
            continue
        elif _is_number_part(token, words):
            sides[1 if months else 0].append(token)
        else:
            raise ValueError("I couldn't understand that date. " + _HELP)
    if not months:
        raise ValueError("I didn't catch the month. " + _HELP)
    if len(months) > 1:
        raise ValueError("I couldn't understand that date. " + _HELP)
    before, after = sides
    found: set[tuple[int, int]] = set()
    for first in _cuts(before):
        for second in _cuts(after):
            pieces = first + second
            if len(pieces) != 2:
                continue
            for day_piece, year_piece in _orders(pieces, same_side=not (first and second)):
                day, year = read_day(day_piece, words), read_year(year_piece, words)
                if day is not None and year is not None:
                    found.add((year, day))
    if len(found) == 1:
        year, day = found.pop()
        return _make_date(year, months[0], day)
    if not found:
        said = before or after
        if not said or (not (before and after) and read_year(said, words) is not None):
            raise ValueError("I didn't catch the day of the month. " + _HELP)
        if not (before and after) and read_day(said, words) is not None:
            raise ValueError("I didn't catch the full year. " + _HELP)
    raise ValueError("I couldn't understand that date. " + _HELP)


def _make_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError("That isn't a real calendar date. " + _HELP) from None


__all__ = ["MAX_DATE_INPUT_CHARS", "parse_spoken_date", "read_date"]
