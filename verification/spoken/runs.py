"""Where numbers stand in what was said: runs of number tokens, and what is around them.

A *run* is a stretch of numerals and number words with nothing between them but what people
and speech-to-text put inside one number: spaces, commas, dashes of every kind, dots,
slashes, brackets, a sentence end, the end of a turn, "and"/"y", and a hesitation ("um").
"415, 555, 0123", "415-555-0123" (any dash), "four oh two, um, nine nine one" and
"402 and 991" are one run each; "402 for 991" is two. A run is cut into *pieces* where a
sentence or a turn ends, so "402991. 402991." can still be read as two codes, and
"four oh two." / "nine nine one" as one.

Both the "did the caller say it" rules (`verification.said`) and the speech filter
(`verification.hygiene`) are built on these runs; the work is linear in the tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Final

from .lexer import FOREIGN, MIXED, NUM, PLUS, SEP, SOFT, SPACE, WORD, Token
from .numbers import read_day
from .vocabulary import Vocabulary

TURN: Final = "turn"  # the boundary between two turns, as a token of its own
BOUNDARY: Final = frozenset({SOFT, TURN})
MAX_DATE_REACH: Final = 12  # tokens a date's month may stand away from its day or year

_INSIDE: Final = frozenset({SPACE, SEP, SOFT, TURN})
_WRITTEN_DATE: Final = re.compile(
    r"\d{1,2}/\d{1,2}(?:/\d{2}(?:\d{2})?)?"  # 12/19, 12/19/85
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-.]\d{1,2}[-.]\d{4}",  # 1985-04-12, 4.12.1985
    re.ASCII,
)


def turn_boundary() -> Token:
    return Token(TURN, "", 0, 0, "")


def is_number(tokens: Sequence[Token], i: int, words: Vocabulary, *, foreign: bool) -> bool:
    """A token that is (part of) a number: a numeral, or a number word of `words`."""
    token = tokens[i]
    if token.kind == NUM or (foreign and token.kind == FOREIGN):
        return True
    if token.kind != WORD:
        return False
    if words.is_number_word(token.key):
        return True
    if token.key in words.repeats:  # "double" counts only before a digit
        following = next_significant(tokens, i + 1)
        if following is None:
            return False
        after = tokens[following]
        return (after.kind == NUM and len(after.text) == 1) or after.key in words.digits
    return False


def next_significant(tokens: Sequence[Token], i: int) -> int | None:
    """The index of the first token at or after `i` that is not a space or separator."""
    while i < len(tokens) and tokens[i].kind in (SPACE, SEP):
        i += 1
    return i if i < len(tokens) else None


def _inside(token: Token, words: Vocabulary) -> bool:
    return token.kind in _INSIDE or (
        token.kind == WORD and (token.key in words.joiners or token.key in words.hesitations)
    )


def number_flags(tokens: Sequence[Token], words: Vocabulary, *, foreign: bool) -> list[bool]:
    """For each token, whether it is a number token (`is_number`)."""
    return [is_number(tokens, i, words, foreign=foreign) for i in range(len(tokens))]


def number_runs(
    tokens: Sequence[Token], numbers: Sequence[bool], words: Vocabulary
) -> list[tuple[int, int]]:
    """(first, last) token indexes of every maximal run; both ends are number tokens."""
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        if not numbers[i]:
            i += 1
            continue
        first = last = i
        j = i + 1
        while j < len(tokens) and (numbers[j] or _inside(tokens[j], words)):
            if numbers[j]:
                last = j
            j += 1
        runs.append((first, last))
        i = j
    return runs


def pieces(
    tokens: Sequence[Token], numbers: Sequence[bool], run: tuple[int, int]
) -> list[tuple[int, int]]:
    """The run cut where a sentence or a turn ends inside it; each piece starts and ends on
    a number token."""
    found: list[tuple[int, int]] = []
    start: int | None = None
    end = run[0]
    for i in range(run[0], run[1] + 1):
        if tokens[i].kind in BOUNDARY and start is not None:
            found.append((start, end))
            start = None
        elif numbers[i]:
            start = i if start is None else start
            end = i
    if start is not None:
        found.append((start, end))
    return found


def spans(
    tokens: Sequence[Token], numbers: Sequence[bool], run: tuple[int, int], *, most: int
) -> Iterator[tuple[int, int]]:
    """Every stretch of one or more consecutive pieces of `run`, at most `most` pieces long."""
    cut = pieces(tokens, numbers, run)
    for a in range(len(cut)):
        for b in range(a, min(len(cut), a + most)):
            yield cut[a][0], cut[b][1]


def plus_before(tokens: Sequence[Token], first: int, words: Vocabulary) -> bool:
    """A "+" (or "plus", "más") said right before the number: a phone number's country code."""
    i = first - 1
    while i >= 0 and tokens[i].kind in (SPACE, SEP) and tokens[i].text != "/":
        i -= 1
    return i >= 0 and (tokens[i].kind == PLUS or tokens[i].key in words.plus)


def _date_part(token: Token, words: Vocabulary) -> bool:
    if token.kind in (SPACE, SEP, SOFT, NUM):
        return True
    if token.kind == MIXED:
        return read_day((token,), words) is not None  # "12th", "1º"
    key = token.key
    return token.kind == WORD and (
        words.is_number_word(key)
        or key in words.ordinals
        or key in words.date_fillers
        or key in words.joiners
    )


def date_reach(tokens: Sequence[Token], month: int, step: int, words: Vocabulary) -> list[int]:
    """The tokens (spaces left out) a date around the month at `month` may reach, walking
    left (`step` -1) or right (1): numbers, ordinals, fillers, up to `MAX_DATE_REACH`."""
    found: list[int] = []
    i = month + step
    while 0 <= i < len(tokens) and len(found) < MAX_DATE_REACH:
        if not _date_part(tokens[i], words):
            break
        if tokens[i].kind not in (SPACE, SEP):
            found.append(i)
        i += step
    return found


def written_date(tokens: Sequence[Token], first: int, last: int) -> bool:
    """The numerals from `first` to `last` are a date as written: "12/19/85", "1985-04-12"."""
    written = "".join(t.text for t in tokens[first : last + 1] if t.kind != SPACE)
    return _WRITTEN_DATE.fullmatch(written) is not None


def near_month(tokens: Sequence[Token], first: int, last: int, words: Vocabulary) -> bool:
    """A month name stands next to this number, with only date words between: it is (part
    of) a date ("April twelve nineteen eighty five", "doce de abril", "the 12th of May")."""
    for step, start in ((-1, first - 1), (1, last + 1)):
        i, reach = start, 0
        while 0 <= i < len(tokens) and reach < MAX_DATE_REACH:
            token = tokens[i]
            if token.kind == WORD and token.key in words.months:
                return True
            if not _date_part(token, words):
                break
            reach += token.kind not in (SPACE, SEP)
            i += step
    return False


__all__ = [
    "TURN",
    "date_reach",
    "is_number",
    "near_month",
    "next_significant",
    "number_flags",
    "number_runs",
    "pieces",
    "plus_before",
    "spans",
    "turn_boundary",
    "written_date",
]
