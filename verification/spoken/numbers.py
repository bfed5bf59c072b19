"""Reading number words, from one language's `Vocabulary`, in the two ways people mean them.

* As **digits** (`read_digits`): a code or a phone number is a string of digits, read in
  groups: "twelve thirty four fifty six" is 123456, "four hundred two" is 402,
  "cuarenta y dos" is 42, "double five" is 55. General word-to-number libraries add values
  up ("twelve thirty four" -> 46); this concatenates them.
* As a **quantity** (`read_quantity`, `read_year`, `read_day`): a date is made of values:
  "mil novecientos ochenta y cinco" is 1985, and so is "nineteen eighty five" (a year said
  in pairs), "two thousand and one" is 2001, "twenty first" is 21.

Every reader takes the tokens of `lexer.lex` and returns `None` where the words do not make
one reading (never a guess), and each does work linear in the tokens it is given.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from .lexer import FOREIGN, MIXED, NUM, PLUS, WORD, Token
from .vocabulary import Vocabulary

MAX_NUMERAL_DIGITS: Final = 32
# A year said in words is one a caller is born in or books for: "twelve eighty five" is no
# year 1285 and "eighty five twelve" no 8512. A numeral year is any four digits, as before.
_WORD_YEARS: Final = range(1800, 2200)
MAX_DAY_WORDS: Final = 31  # a day said in words is read only as a day of some month

_READ: Final = frozenset({NUM, WORD, MIXED, FOREIGN, PLUS})  # what a code reader looks at
_UNIT: Final = "unit"
_TEEN: Final = "teen"
_TENS: Final = "tens"
_HUNDRED: Final = "hundred"
_THOUSAND: Final = "thousand"


def _key(items: Sequence[Token], i: int) -> str:
    return items[i].key if i < len(items) and items[i].kind == WORD else ""


def _below_hundred(
    items: Sequence[Token], i: int, words: Vocabulary, *, after_hundred: bool
) -> tuple[int | None, int]:
    """One number under 100 at `items[i]` ("and"/"y" allowed first after a hundred)."""
    if after_hundred and _key(items, i) in words.joiners:
        value, j = _below_hundred(items, i + 1, words, after_hundred=False)
        return (value, j) if value is not None else (None, i)
    word = _key(items, i)
    if word in words.tens:
        unit = _key(items, i + 1)
        if words.digits.get(unit, 0) > 0:
            return words.tens[word] + words.digits[unit], i + 2
        after_joiner = _key(items, i + 2)
        if unit in words.joiners and words.digits.get(after_joiner, 0) > 0:
            return words.tens[word] + words.digits[after_joiner], i + 3
        return words.tens[word], i + 1
    if word in words.teens:
        return words.teens[word], i + 1
    if word in words.digits:
        return words.digits[word], i + 1
    return None, i


def _group(items: Sequence[Token], i: int, words: Vocabulary) -> tuple[str, int]:
    """One number under 1000 said at `items[i]`, as the digits it stands for."""
    word = _key(items, i)
    hundreds: int | None = None
    if word in words.hundreds:
        hundreds, start = words.hundreds[word], i + 1
    elif word in words.digits and words.multipliers.get(_key(items, i + 1)) == 100:
        hundreds, start = words.digits[word] * 100, i + 2
    if hundreds is not None:
        rest, j = _below_hundred(items, start, words, after_hundred=True)
        return f"{hundreds + (rest or 0):03d}", j
    value, j = _below_hundred(items, i, words, after_hundred=False)
    return str(value), j


def read_digits(
    tokens: Sequence[Token], words: Vocabulary, *, refuse: frozenset[str] = frozenset()
) -> str | None:
    """The digits `tokens` spell, concatenated; words that are no number are skipped.

    `None` for anything that cannot be read as a string of digits: a numeral run into
    letters ("4o2") or in another script (fullwidth, Arabic-Indic), a "+", a word in
    `refuse` or in this language's `unsupported` ("thousand", "point"), a bare multiplier,
    "double" with no digit after it.
    """
    items = [t for t in tokens if t.kind in _READ]
    out: list[str] = []
    i = 0
    while i < len(items):
        token = items[i]
        if token.kind == NUM:
            out.append(token.text)
            i += 1
            continue
        if token.kind != WORD:
            return None
        word = token.key
        if word in refuse or word in words.unsupported or word in words.plus:
            return None
        if word in words.multipliers:
            return None  # "thousand", or "hundred" with no digit before it
        if word in words.repeats:
            following = items[i + 1] if i + 1 < len(items) else None
            if following is not None and following.kind == NUM and len(following.text) == 1:
                digit = following.text
            elif following is not None and _key(items, i + 1) in words.digits:
                digit = str(words.digits[following.key])
            else:
                return None
            out.append(digit * words.repeats[word])
            i += 2
            continue
        if (
            word in words.digits
            or word in words.teens
            or word in words.tens
            or (word in words.hundreds)
        ):
            group, i = _group(items, i, words)
            out.append(group)
            continue
        i += 1  # filler: "my code is", "um", "and"
    return "".join(out)


def read_quantity(items: Sequence[Token], words: Vocabulary) -> int | None:
    """The value of one number said as a quantity ("two thousand and one" -> 2001), or of
    one numeral; `None` unless every item belongs to that one number."""
    if len(items) == 1 and items[0].kind == NUM and len(items[0].text) <= MAX_NUMERAL_DIGITS:
        return int(items[0].text)
    total, current, last, before_joiner = 0, 0, "", ""
    for token in items:
        if token.kind != WORD:
            return None
        word = token.key
        if word in words.joiners:
            if last not in (_TENS, _HUNDRED, _THOUSAND):
                return None
            last, before_joiner = "join", last
            continue
        after_tens = last == _TENS or (last == "join" and before_joiner == _TENS)
        if word in words.digits:
            if last in (_UNIT, _TEEN) or (after_tens and words.digits[word] == 0):
                return None
            current, last = current + words.digits[word], _UNIT
        elif word in words.teens or word in words.tens:
            if last in (_UNIT, _TEEN, _TENS) or after_tens:
                return None
            value = words.teens.get(word) or words.tens[word]
            current, last = current + value, (_TEEN if word in words.teens else _TENS)
        elif word in words.hundreds:
            if current:
                return None
            current, last = words.hundreds[word], _HUNDRED
        elif words.multipliers.get(word) == 100:
            if current >= 100 or last == "join":
                return None
            current, last = (current or 1) * 100, _HUNDRED
        elif words.multipliers.get(word) == 1000:
            if total or last == "join":
                return None
            total, current, last = (current or 1) * 1000, 0, _THOUSAND
        else:
            return None
    if last in ("", "join"):
        return None
    return total + current


def _year_tail(items: Sequence[Token], words: Vocabulary) -> int | None:
    """The last two digits of a year said in pairs: "eighty five", "oh five", "hundred"."""
    if len(items) == 1 and words.multipliers.get(_key(items, 0)) == 100:
        return 0
    if len(items) == 2 and words.digits.get(_key(items, 0), -1) == 0:
        unit = words.digits.get(_key(items, 1))
        return unit if unit else None
    value = read_quantity(items, words)
    if value is None or not 10 <= value <= 99 or items[0].kind == NUM:
        return None
    return value


def read_year(items: Sequence[Token], words: Vocabulary) -> int | None:
    """A four-digit year (1800-2199 when said in words): "1985", "nineteen eighty five",
    "mil novecientos ochenta y cinco", "two thousand and one", "twenty oh one"; `None` for
    anything else (or two readings)."""
    if len(items) == 1 and items[0].kind == NUM:
        return int(items[0].text) if len(items[0].text) == 4 else None
    if not items or any(t.kind != WORD for t in items):
        return None
    found: set[int] = set()
    value = read_quantity(items, words)
    if value is not None:
        found.add(value)
    for split in range(1, len(items)):
        century = read_quantity(items[:split], words)
        if century is None or not 10 <= century <= 99:
            continue
        tail = _year_tail(items[split:], words)
        if tail is not None:
            found.add(century * 100 + tail)
    found = {year for year in found if year in _WORD_YEARS}
    return found.pop() if len(found) == 1 else None


_NUMERAL_DAY = re.compile(r"([0-9]{1,2})(\w*)")


def read_day(items: Sequence[Token], words: Vocabulary) -> int | None:
    """A day of the month as said: "12", "12th", "1º", "twelfth", "twenty first", "twelve",
    "treinta y uno", "primero". Numerals are the calendar's business to refuse ("April 32
    1985" is no real date); words are read only up to 31, where they cannot be a year's end."""
    if len(items) == 1 and items[0].kind in (NUM, MIXED):
        match = _NUMERAL_DAY.fullmatch(items[0].key or items[0].text)
        if match is None or (match.group(2) and match.group(2) not in words.ordinal_suffixes):
            return None
        return int(match.group(1))
    if any(t.kind != WORD for t in items):
        return None
    keys = [t.key for t in items]
    if len(keys) == 1 and keys[0] in words.ordinals:
        return words.ordinals[keys[0]]
    if len(keys) == 2 and keys[0] in words.tens and 0 < words.ordinals.get(keys[1], 0) < 10:
        return words.tens[keys[0]] + words.ordinals[keys[1]]
    value = read_quantity(items, words)
    return value if value is not None and 0 < value <= MAX_DAY_WORDS else None


__all__ = ["read_day", "read_digits", "read_quantity", "read_year"]
