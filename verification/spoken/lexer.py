"""Cut text into tokens that keep their place in it, for every reader of spoken numbers.

The readers need to know where each word and numeral stands (to say *where* a code was
said, or which characters of a sentence to hide) and what separates them (a comma or a dash
inside a number, a sentence end between two). One pass over the characters, by Unicode
category, so the work is linear in the text and no regular expression can backtrack:

* `NUM`: ASCII digits ("402"); `FOREIGN`: digits of another script or look-alikes
  (fullwidth, Arabic-Indic, superscripts), which code readers refuse and the filter counts;
* `WORD`: letters and marks of any script, apostrophes inside kept ("o'clock", "José");
* `MIXED`: letters and digits run together ("12th", "A3K9PX", "4o2");
* `SPACE`: whitespace and invisible format characters; `SEP`: what people and speech-to-text
  put inside a number (",", ".", "-", any dash, "/", brackets, "·", "_");
* `SOFT`: a sentence end inside a turn (". ", "?", "!", "…"); `PLUS`: "+";
* `PUNCT`: anything else (":", "$", quotes, controls, emoji).
"""

from __future__ import annotations

import unicodedata
from typing import Final, NamedTuple

from .vocabulary import APOSTROPHES, word_key

NUM: Final = "num"
FOREIGN: Final = "foreign"
WORD: Final = "word"
MIXED: Final = "mixed"
SPACE: Final = "space"
SEP: Final = "sep"
SOFT: Final = "soft"
PLUS: Final = "plus"
PUNCT: Final = "punct"

_SEPARATORS: Final = frozenset(",./()[]\u00b7_\u2212\ufe63\uff0d")
_SOFT: Final = frozenset("?!\u2026\u3002\uff1f\uff01")


class Token(NamedTuple):
    kind: str
    text: str
    start: int
    end: int
    key: str  # a WORD's `word_key`; "" for every other kind


def _is_wordish(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN"


def _classify(text: str) -> tuple[str, str]:
    if text.isascii() and text.isdigit():
        return NUM, ""
    numeric = [unicodedata.category(ch)[0] == "N" for ch in text]
    if all(numeric):
        return FOREIGN, ""
    if any(numeric):
        return MIXED, word_key(text)
    return WORD, word_key(text)


def _single(text: str, i: int) -> str:
    ch = text[i]
    category = unicodedata.category(ch)
    if ch.isspace() or category in ("Zs", "Zl", "Zp", "Cf"):
        return SPACE
    if ch == "+":
        return PLUS
    if ch == ".":
        after = text[i + 1 : i + 2]
        return SOFT if after == "" or after.isspace() else SEP
    if ch in _SOFT:
        return SOFT
    if ch in _SEPARATORS or category == "Pd":
        return SEP
    return PUNCT


def lex(text: str) -> list[Token]:
    """The tokens of `text`, in order, covering it without gaps."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if _is_wordish(text[i]):
            j = i + 1
            while j < n and (
                _is_wordish(text[j])
                or (text[j] in APOSTROPHES and j + 1 < n and _is_wordish(text[j + 1]))
            ):
                j += 1
            kind, key = _classify(text[i:j])
            tokens.append(Token(kind, text[i:j], i, j, key))
            i = j
            continue
        kind = _single(text, i)
        j = i + 1
        if kind == SPACE:
            while j < n and _single(text, j) == SPACE and not _is_wordish(text[j]):
                j += 1
        tokens.append(Token(kind, text[i:j], i, j, ""))
        i = j
    return tokens


__all__ = [
    "FOREIGN",
    "MIXED",
    "NUM",
    "PLUS",
    "PUNCT",
    "SEP",
    "SOFT",
    "SPACE",
    "WORD",
    "Token",
    "lex",
]
