"""Turn what speech-to-text heard into the digits of a code.

Callers read codes in many ways: digit by digit ("four oh two nine nine one"), in pairs
("twelve thirty four fifty six"), with "double"/"triple", or the STT engine writes numerals
("123 456", "1-2-3 4-5-6"). A small tokenizer of our own covers these exactly; general
word-to-number libraries add values up ("twelve thirty four" -> 46) instead of concatenating.
Anything that does not come out as exactly `length` digits is `None`, never a guess.
"""

from __future__ import annotations

import re

MAX_SPOKEN_CHARS = 400

_UNITS = {
    "zero": 0, "oh": 0, "o": 0, "nought": 0, "naught": 0, "nil": 0,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_REPEATS = {"double": 2, "triple": 3}
_UNSUPPORTED = {"thousand", "million", "point", "minus", "plus", "half"}

_SPLIT = re.compile(r"[\s,.;:!?/\-_()\[\]\"']+")
_ASCII_DIGITS = re.compile(r"[0-9]+")


def parse_spoken_code(text: str, length: int = 6) -> str | None:
    """Return the code's digits if `text` holds exactly `length` of them, else `None`."""
    if not isinstance(text, str) or len(text) > MAX_SPOKEN_CHARS:
        return None
    if len(text) == length and text.isascii() and text.isdigit():
        return text  # keypad or typed digits: the common case, nothing to read
    words = [t for t in _SPLIT.split(text.lower()) if t]
    digits = _digits_from_words(words)
    if digits is None or len(digits) != length:
        return None
    return digits


def _digits_from_words(words: list[str]) -> str | None:
    """Concatenate the digits the words spell; `None` where the reading is ambiguous."""
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if _ASCII_DIGITS.fullmatch(word):
            out.append(word)
        elif any(c.isdigit() for c in word) or word in _UNSUPPORTED:
            return None  # "4o2", look-alike digits, "thousand": refuse rather than guess
        elif word in _REPEATS:
            if i + 1 >= len(words) or words[i + 1] not in _UNITS:
                return None
            i += 1
            out.append(str(_UNITS[words[i]]) * _REPEATS[word])
        elif word in _UNITS and i + 1 < len(words) and words[i + 1] == "hundred":
            hundreds, i = _UNITS[word], i + 1
            rest, i = _below_hundred(words, i + 1)
            out.append(f"{hundreds * 100 + (rest or 0):03d}")
            continue
        elif word in _UNITS or word in _TEENS or word in _TENS:
            value, i = _below_hundred(words, i)
            out.append(str(value))
            continue
        elif word == "hundred":
            return None
        # anything else is filler ("my code is", "um", "and"): skip it
        i += 1
    return "".join(out)


def _below_hundred(words: list[str], i: int) -> tuple[int | None, int]:
    """Read one number under 100 starting at `words[i]` ("and" allowed before it)."""
    if i < len(words) and words[i] == "and":
        i += 1
    if i >= len(words):
        return None, i
    word = words[i]
    if word in _TENS:
        if i + 1 < len(words) and words[i + 1] in _UNITS and _UNITS[words[i + 1]] > 0:
            return _TENS[word] + _UNITS[words[i + 1]], i + 2
        return _TENS[word], i + 1
    if word in _TEENS:
        return _TEENS[word], i + 1
    if word in _UNITS:
        return _UNITS[word], i + 1
    return None, i
