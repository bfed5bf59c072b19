"""Which numbers in a sentence could be a code or a phone number: the speech filter's count.

One rule, not a list of separators: every number in a sentence is read (numerals of any
script, number words of every language, "oh", "double"), joined into runs across whatever
people put inside a number (`runs`), and its digits are counted, unless it is plainly
something else:

* a date ("April 12 1985", "doce de abril", "2026-12-01", "12/01"), a time ("10 AM",
  "10:30", "a las diez de la mañana"), a year ("1985"), an amount ("$45.00", "20 dollars"),
  a count or a duration ("a 6-digit code", "5 minutes", "2 more tries");
* the last four digits of a number already masked ("the number ending in 0123");
* a list of days or hours ("9, 10, 11, 13 and 14");
* one number word above nine among other words ("at ten", "the twelve o'clock"); a lone
  digit word ("one", "una") counts one digit, so "The first is four. Then oh. ..." adds up;
* one of the host's own numbers (`allowed`, its front desk).

`count_digits(sentence, allowed)` returns what is left: the mentions whose digits count.
The speech filter adds the counts of consecutive sentences and hides the mentions once
they reach a code's length.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Final

from .lexer import FOREIGN, MIXED, NUM, PLUS, SEP, SPACE, WORD, Token, lex
from .numbers import read_day, read_digits, read_year
from .runs import near_month, number_flags, number_runs
from .vocabulary import Vocabulary, merged

PHONE_DIGITS: Final = 7  # a mention this long is (part of) a phone number
MAX_TIME_DIGITS: Final = 4
MASKED_DIGITS: Final = 4  # `verification.mask_phone`: "ending in 0123"
MAX_LISTED_DAY: Final = 31
_YEARS: Final = range(1900, 2100)  # a year the filter lets through as it is

_KEPT = re.compile(
    r"(?<![\d:])(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::\d{2})?(?![\d:])"  # 10:30
    r"|(?<![\d/.\-])\d{4}[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})(?!\d|[/.\-]\d)"  # ISO
    r"|(?<![\d/.\-])(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.]\d{4}(?!\d|[/.\-]\d)"  # 4/12/2026
    r"|(?<![\d/])(?P<c>\d{1,2})/(?P<d>\d{1,2})(?!\d|/\d)",  # 12/1
    re.ASCII,
)
_MIXED_DIGITS: Final = frozenset("0123456789oO")  # "4o2991": o written for zero
_PRICE = re.compile(r"\d{1,4}(?:\.\d{1,2})?|\d,\d{3}(?:\.\d{1,2})?", re.ASCII)


@dataclass(frozen=True)
class Mention:
    """A number in a sentence whose digits count: `sentence[start:end]`, read as `digits`."""

    start: int
    end: int
    digits: str


def digits_of(tokens: Sequence[Token], words: Vocabulary) -> str:
    """The digits of a run however it is written (another script's digits, "two thousand"):
    exact where `read_digits` reads it, else one digit per digit said, at least."""
    exact = read_digits(tokens, words)
    if exact is not None:
        return exact
    out: list[str] = []
    for token in tokens:
        if token.kind == NUM:
            out.append(token.text)
        elif token.kind == MIXED:
            out.extend("0" if ch in "oO" else ch for ch in token.text if ch in _MIXED_DIGITS)
        elif token.kind == FOREIGN:
            out.extend(str(unicodedata.digit(ch, 0)) for ch in token.text)
        elif token.kind == WORD and words.is_number_word(token.key):
            out.append(read_digits((token,), words) or "0" * len(str(_value(token.key, words))))
    return "".join(out)


def _mixed_digits(text: str) -> int:
    return sum(ch.isascii() and ch.isdigit() for ch in text)


def _value(key: str, words: Vocabulary) -> int:
    for table in (words.digits, words.teens, words.tens, words.hundreds, words.multipliers):
        if key in table:
            return table[key]
    return 0


@cache
def _after(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """Matches right after a number when one of `phrases` follows it."""
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"\s*(?:{alternatives})(?!\w)", re.IGNORECASE)


def _masked(before: str, prefixes: Sequence[str]) -> bool:
    """`before` (the sentence up to a number) ends with a masking phrase ("ending in")."""
    said = " ".join(before.casefold().split())
    return any(said.endswith(prefix) for prefix in prefixes)


def _written_date_or_time(found: re.Match[str]) -> bool:
    """A `_KEPT` match that is a real time or date (a code in pairs, "40/29/91", is not)."""
    part = {name: int(value) for name, value in found.groupdict().items() if value is not None}
    if "hour" in part:
        return part["hour"] <= 24 and part["minute"] < 60
    if "month" in part:
        return 1 <= part["month"] <= 12 and 1 <= part["day"] <= 31
    first, second = (part["a"], part["b"]) if "a" in part else (part["c"], part["d"])
    return 1 <= min(first, second) <= 12 and max(first, second) <= 31


def _listed(tokens: Sequence[Token], numbers: Sequence[bool], first: int, last: int) -> bool:
    """Days or hours listed: "9, 10, 11, 13 and 14" (increasing, up to 31, one of two digits,
    each after a comma or "and"); a code read out is not such a list."""
    words = merged()
    values: list[int] = []
    joined = True
    for i in range(first, last + 1):
        token = tokens[i]
        if numbers[i]:
            digits = token.text if token.kind == NUM else read_digits((token,), words) or ""
            if not joined or not digits or digits.startswith("0") or len(digits) > 2:
                return False
            values.append(int(digits))
            joined = False
        elif token.text == "," or token.key in words.joiners:
            joined = True
    return (
        len(values) > 1
        and max(values) >= 10
        and max(values) <= MAX_LISTED_DAY
        and all(a < b for a, b in pairwise(values))
    )


def _is_allowed(digits: str, allowed: Iterable[str]) -> bool:
    for number in allowed:
        short, long = sorted((digits, number), key=len)
        if short == long or (len(short) >= PHONE_DIGITS and long.endswith(short)):
            return True
    return False


def _something_else(
    text: str, tokens: Sequence[Token], numbers: Sequence[bool], run: tuple[int, int], digits: str
) -> bool:
    """A date, a time, a year or an amount: digits that are no code."""
    words = merged()
    first, last = run
    start, end = tokens[first].start, tokens[last].end
    said = [tokens[i] for i in range(first, last + 1) if numbers[i]]
    if near_month(tokens, first, last, words) and _day_or_year(said, words):
        return True
    if read_year(said, words) in _YEARS:
        return True  # "1985", "nineteen eighty five", "two thousand twenty four"
    if len(digits) <= MAX_TIME_DIGITS and _after(words.time_markers).match(text, end):
        return True
    if len(digits) <= MAX_TIME_DIGITS and _after(words.amount_words).match(text, end):
        return True
    if len(digits) <= MAX_TIME_DIGITS and _after(words.quantity_words).match(text, end):
        return True  # "a 6-digit code", "in 5 minutes", "2 more tries"
    if len(digits) == MASKED_DIGITS and _masked(text[:start], words.masked_prefixes):
        return True  # "the number ending in 0123": already masked, said on purpose
    before = text[:start].rstrip()
    return (
        bool(before)
        and unicodedata.category(before[-1]) == "Sc"
        and bool(_PRICE.fullmatch(text[start:end]))
    )


def _day_or_year(said: Sequence[Token], words: Vocabulary) -> bool:
    """Numbers next to a month that read as its day (1-31), its year (1900-2099), or both
    ("12 1985", "twelve nineteen eighty five"); "April 402991" or "April 40 2991" is no date."""

    def day(items: Sequence[Token]) -> bool:
        return 1 <= (read_day(items, words) or 0) <= MAX_LISTED_DAY

    def year(items: Sequence[Token]) -> bool:
        return read_year(items, words) in _YEARS

    return (
        day(said)
        or year(said)
        or any(day(said[:cut]) and year(said[cut:]) for cut in range(1, len(said)))
    )


def _widen(text: str, tokens: Sequence[Token], first: int, last: int) -> tuple[int, int]:
    """The mention with the "+" or "(" that opens it and the ")" that closes it."""
    while first > 0 and (tokens[first - 1].kind == PLUS or tokens[first - 1].text == "("):
        first -= 1
    end = tokens[last].end
    inside = text[tokens[first].start : end]
    if inside.count("(") > inside.count(")") and text[end : end + 1] == ")":
        end += 1
    return tokens[first].start, end


def count_digits(sentence: str, allowed: Iterable[str] = ()) -> list[Mention]:
    """The numbers in `sentence` whose digits count toward a code or a phone number."""
    words = merged()
    tokens = lex(sentence)
    numbers = number_flags(tokens, words, foreign=True)
    for i, token in enumerate(tokens):  # "4o2991", "x402991": digits with letters in them
        numbers[i] = numbers[i] or (token.kind == MIXED and _mixed_digits(token.text) >= 3)
    kept = [m.span() for m in _KEPT.finditer(sentence) if _written_date_or_time(m)]
    at = 0
    for i, token in enumerate(tokens):  # written dates and times: never counted
        while at < len(kept) and kept[at][1] <= token.start:
            at += 1
        if at < len(kept) and kept[at][0] <= token.start and token.end <= kept[at][1]:
            numbers[i] = False
    other_words = any(
        t.kind == WORD and not numbers[i] and t.key not in words.joiners
        for i, t in enumerate(tokens)
    )
    mentions: list[Mention] = []
    for first, last in number_runs(tokens, numbers, words):
        lone = first == last and tokens[first].kind == WORD and other_words
        if lone and tokens[first].key not in words.digits:
            continue  # "at ten", "the twelve": a number word among words is no code
        digits = digits_of(tokens[first : last + 1], words)
        if not digits or _is_allowed(digits, allowed):
            continue
        if _something_else(sentence, tokens, numbers, (first, last), digits):
            continue
        if _listed(tokens, numbers, first, last):
            continue
        start, end = _widen(sentence, tokens, first, last)
        mentions.append(Mention(start, end, digits))
    return mentions


def allowed_digits(numbers: Iterable[str]) -> frozenset[str]:
    """The digits of the host's own numbers (at least 3 digits each), as mentions read them."""
    words = merged()
    found = set()
    for number in numbers:
        if isinstance(number, str):
            digits = digits_of([t for t in lex(number) if t.kind not in (SPACE, SEP)], words)
            if len(digits) >= 3:
                found.add(digits)
    return frozenset(found)


__all__ = ["PHONE_DIGITS", "Mention", "allowed_digits", "count_digits", "digits_of"]
