"""Did the caller say it? Names, dates, phone numbers and codes, read the way we read them.

A model can call a tool with values nobody said: invented, copied from the caller ID, or
lifted out of something else the caller said. Each such call would cost the patient (a code
attempt, a record's failure counter, a text to a stranger), so a tool evaluates a value only
when the caller said it in this call. These functions answer that question over the caller's
turns (a sequence of strings, oldest first), in every language `verification/languages/`
has, and are pure: no framework, no I/O.

* `said_code(guess, turns, used=...)`: *where* the caller said exactly these digits as a
  number of its own: not part of a longer run ("402991 7"), of a date ("April twelve nineteen
  eighty five" holds no code 121985) or of a phone number ("+1 402 991"). The answer is a
  `Said` place; the caller of this function keeps the places it used, so a code said once is
  checked once (saying it again is a new place). `code_places` gives every place and
  `first_unused` picks from them, for a caller that also wants to know whether the guess was
  said at all.
* `said_phone(e164, turns, region)`: the caller said this number in a usual written or spoken
  form ("+1-415-555-0123", "(415) 555-0123", "four one five, five five five, oh one two
  three", "020 7946 0018" in GB), read by phonenumbers for the clinic's region(s).
* `said_date(value, turns)`: some stretch of what was said reads (`read_date`) as this date.
* `said_name(full_name, turns)`: every part of the name was said, compared as Unicode text,
  case- and accent-insensitively (as `clinic.names` normalises names).

Only the most recent `MAX_HEARD_CHARS` characters are read, so the work stays bounded
however long the call.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Final

import phonenumbers

from .spoken.dates import read_date
from .spoken.lexer import SPACE, WORD, Token, lex
from .spoken.names import name_words as _name_words
from .spoken.numbers import read_digits
from .spoken.runs import (
    date_reach,
    near_month,
    number_flags,
    number_runs,
    plus_before,
    spans,
    turn_boundary,
    written_date,
)
from .spoken.vocabulary import Vocabulary, every_language, merged

MAX_HEARD_CHARS: Final = 2_000  # the caller's latest words: a code is said right after it is sent
MAX_CODE_DIGITS: Final = 16
MAX_PHONE_DIGITS: Final = 20  # E.164's 15 and an international prefix ("011", "0044")
MAX_PHONE_PIECES: Final = 6  # "plus one" / "four one five" / ... over pauses and turns
MAX_REGIONS: Final = 8
MAX_MONTHS_READ: Final = 8
MAX_NAME_CHARS: Final = 120

_NUMERIC_DATE = re.compile(r"(?<![\d/.\-])\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?![\d/.\-])", re.ASCII)


@dataclass(frozen=True, slots=True)
class Said:
    """Where a value was said: from `turns[turn][start]` to `turns[last_turn][end - 1]`
    (the same turn unless the caller paused in the middle of it)."""

    turn: int
    start: int
    last_turn: int
    end: int


# -- what was heard -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Heard:
    """The caller's recent turns as one stream of tokens, turn boundaries marked."""

    tokens: list[Token]
    places: list[tuple[int, int]]  # per token: (turn index, offset of its text in that turn)
    turn_tokens: list[list[Token]]  # each recent turn's text lexed on its own, oldest first


def _recent(turns: Sequence[str]) -> list[tuple[int, int, str]]:
    """(turn index, offset, text) of the latest `MAX_HEARD_CHARS` characters, oldest first.
    A lone string is one turn; anything in the turns that is not a string is heard as ""."""
    if isinstance(turns, str):
        turns = [turns]
    elif not isinstance(turns, Sequence):
        turns = list(turns) if isinstance(turns, Iterable) else []
    texts: list[tuple[int, int, str]] = []
    budget = MAX_HEARD_CHARS
    for index in range(len(turns) - 1, -1, -1):
        if budget <= 0:
            break
        turn = turns[index]
        text = turn if isinstance(turn, str) else ""
        offset = max(0, len(text) - budget)
        texts.append((index, offset, text[offset:]))
        budget -= max(1, len(text) - offset)
    texts.reverse()
    return texts


def _hear(turns: Sequence[str]) -> _Heard:
    tokens: list[Token] = []
    places: list[tuple[int, int]] = []
    turn_tokens: list[list[Token]] = []
    for index, offset, text in _recent(turns):
        if tokens:
            tokens.append(turn_boundary())
            places.append((index, offset))
        lexed = lex(text)
        turn_tokens.append(lexed)
        tokens.extend(lexed)
        places.extend([(index, offset)] * len(lexed))
    return _Heard(tokens, places, turn_tokens)


def _place(heard: _Heard, first: int, last: int) -> Said:
    (turn, offset), (last_turn, last_offset) = heard.places[first], heard.places[last]
    return Said(
        turn, offset + heard.tokens[first].start, last_turn, last_offset + heard.tokens[last].end
    )


# -- codes --------------------------------------------------------------------------------


def said_code(guess: str, turns: Sequence[str], *, used: Collection[Said] = ()) -> Said | None:
    """The first place, not in `used`, where the caller said exactly `guess` (ASCII digits)
    as a number of its own; `None` if there is none."""
    return first_unused(code_places(guess, turns), used)


def code_places(guess: str, turns: Sequence[str]) -> list[Said]:
    """Every place where the caller said exactly `guess` (ASCII digits) as a number of its
    own, in the order said; empty if there is none."""
    if not isinstance(guess, str) or not (guess.isascii() and guess.isdigit()):
        return []
    if len(guess) > MAX_CODE_DIGITS:
        return []
    heard = _hear(turns)
    places: set[Said] = set()
    for words in every_language():
        places |= set(_code_places(heard, guess, words))
    return sorted(places, key=lambda p: (p.turn, p.start, p.last_turn))


def first_unused(places: Sequence[Said], used: Collection[Said]) -> Said | None:
    """The first of `places` not in `used` (a code said once is checked once)."""
    return next((place for place in places if place not in used), None)


def _code_places(heard: _Heard, guess: str, words: Vocabulary) -> Iterable[Said]:
    tokens, every = heard.tokens, merged()  # runs, dates and "+" read alike in every language
    numbers = number_flags(tokens, words, foreign=False)
    for run in number_runs(tokens, numbers, every):
        for first, last in spans(tokens, numbers, run, most=len(guess)):
            if plus_before(tokens, first, every) or near_month(tokens, first, last, every):
                continue  # a phone number's country code, or a date
            if written_date(tokens, first, last):
                continue  # "12/19/85"
            if read_digits(tokens[first : last + 1], words) == guess:
                yield _place(heard, first, last)


# -- phone numbers --------------------------------------------------------------------------


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _regions(region: str | Iterable[str]) -> list[str]:
    found = [region] if isinstance(region, str) else list(region)[:MAX_REGIONS]
    return [r.upper() for r in found if isinstance(r, str) and r.isascii() and len(r) == 2]


def said_phone(e164: str, turns: Sequence[str], region: str | Iterable[str]) -> bool:
    """True when the caller said the number `e164` ("+14155550123") in any usual written or
    spoken form, read for `region` (or each of several regions the clinic serves)."""
    try:
        number = phonenumbers.parse(e164, None) if isinstance(e164, str) else None
    except phonenumbers.NumberParseException:
        return False
    if number is None or not phonenumbers.is_valid_number(number):
        return False
    target = _e164(number)
    regions = _regions(region)
    if target != e164.strip() or not regions:
        return False
    heard = _hear(turns)
    return any(_phone_in(heard, target, regions, words) for words in every_language())


def _parses_to(text: str, regions: list[str], target: str) -> bool:
    for region in regions:
        try:
            if _e164(phonenumbers.parse(text, region)) == target:
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def _phone_in(heard: _Heard, target: str, regions: list[str], words: Vocabulary) -> bool:
    tokens = heard.tokens
    numbers = number_flags(tokens, words, foreign=False)
    for run in number_runs(tokens, numbers, merged()):
        for first, last in spans(tokens, numbers, run, most=MAX_PHONE_PIECES):
            digits = read_digits(tokens[first : last + 1], words)
            if not digits or len(digits) > MAX_PHONE_DIGITS:
                continue
            plus = "+" if plus_before(tokens, first, merged()) else ""
            if _parses_to(plus + digits, regions, target):
                return True
    for lexed in heard.turn_tokens:  # as written, number words made digits: "415, 555, 0123"
        written = _digits_for_words(lexed, words)
        for region in regions:
            for match in phonenumbers.PhoneNumberMatcher(written, region):
                if _e164(match.number) == target:
                    return True
    return False


def _digits_for_words(tokens: Sequence[Token], words: Vocabulary) -> str:
    """The text with each stretch of number words written as its digits, "plus" as "+"."""

    def says_number(token: Token) -> bool:
        return token.kind == WORD and (
            words.is_number_word(token.key) or token.key in words.repeats
        )

    def inside(token: Token) -> bool:
        return token.kind == SPACE or says_number(token) or token.key in words.joiners

    out: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i].kind == WORD and tokens[i].key in words.plus:
            out.append("+")
        elif says_number(tokens[i]):
            j = i + 1
            while j < len(tokens) and inside(tokens[j]):
                j += 1
            out.append((read_digits(tokens[i:j], words) or "") + " ")
            i = j
            continue
        else:
            out.append(tokens[i].text)
        i += 1
    return "".join(out)


# -- dates ----------------------------------------------------------------------------------


def said_date(value: date, turns: Sequence[str]) -> bool:
    """True when some stretch of what the caller said reads as the date `value`."""
    if not isinstance(value, date):
        return False
    texts = [text for _, _, text in _recent(turns)]
    joined = [f"{a} {b}" for a, b in pairwise(texts)]  # a date said over a pause
    return any(_date_in(text, value) for text in texts + joined)


def _date_in(text: str, value: date) -> bool:
    """Numeric dates as written, then every stretch around a month name that starts and
    ends where a number does (a number is never cut: "nineteen eighty" of "nineteen eighty
    five" is no year said)."""
    if any(_reads_as(m.group(), value) for m in _NUMERIC_DATE.finditer(text)):
        return True
    words = merged()
    tokens = lex(text)
    numbers = number_flags(tokens, words, foreign=False)
    not_first: set[int] = set()
    not_last: set[int] = set()
    for first, last in number_runs(tokens, numbers, words):
        not_first.update(range(first + 1, last + 1))
        not_last.update(range(first, last))
    # a comma is the caller's pause: "April 12 1985, 415 555 0123" ends its date at the comma
    paused = {i for i, after in _next_tokens(tokens) if after is not None and after.text in ",;"}
    months = [i for i, t in enumerate(tokens) if t.kind == WORD and t.key in words.months]
    for month in months[-MAX_MONTHS_READ:]:
        lefts = [month] + [i for i in date_reach(tokens, month, -1, words) if i not in not_first]
        rights = [month] + [
            i for i in date_reach(tokens, month, 1, words) if i not in not_last or i in paused
        ]
        for left in lefts:
            for right in rights:
                if _reads_as(text[tokens[left].start : tokens[right].end], value):
                    return True
    return False


def _next_tokens(tokens: Sequence[Token]) -> list[tuple[int, Token | None]]:
    """Each token's index with the next token that is not a space (None at the end)."""
    pairs: list[tuple[int, Token | None]] = []
    following: Token | None = None
    for i in range(len(tokens) - 1, -1, -1):
        pairs.append((i, following))
        if tokens[i].kind != SPACE:
            following = tokens[i]
    return pairs


def _reads_as(text: str, value: date) -> bool:
    try:
        return read_date(text) == value
    except ValueError:
        return False


# -- names ----------------------------------------------------------------------------------


def said_name(full_name: str, turns: Sequence[str]) -> bool:
    """True when every part of `full_name` was said (a word, or words run together: "O Brien"
    for O'Brien, "J A N E" spelled out)."""
    if not isinstance(full_name, str) or len(full_name) > MAX_NAME_CHARS:
        return False
    parts = _name_words(full_name, strict=True)
    if not parts:
        return False
    longest = max(len(part) for part in parts)
    heard: set[str] = set()
    for _, _, text in _recent(turns):
        said = _name_words(text, strict=False) or []
        for i in range(len(said)):
            joined = ""
            for word in said[i:]:
                joined += word
                if len(joined) > longest:
                    break
                heard.add(joined)
    return all(part in heard for part in parts)


__all__ = [
    "MAX_HEARD_CHARS",
    "Said",
    "code_places",
    "first_unused",
    "said_code",
    "said_date",
    "said_name",
    "said_phone",
]
