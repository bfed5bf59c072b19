"""The words of a name, compared as the Unicode text it is: one normaliser for the name a
caller said (`verification.said`) and the name on a record (`clinic.names`)."""

from __future__ import annotations

import unicodedata

from .vocabulary import APOSTROPHES


def name_words(text: str, *, strict: bool, refuse_lone_marks: bool = False) -> list[str] | None:
    """The words of `text`: NFKC, case folded, apostrophes inside a word and invisible joiners
    dropped ("O'Brien" -> "obrien"), accents on a-z folded ("José" -> "jose"), letters, digits
    and marks of every other script kept; spaces and punctuation separate words.

    `strict` (a name that must be read whole): any other character (a symbol, an emoji, a
    control character) makes it uncomparable, `None`; else such characters separate words.
    `refuse_lone_marks`: a combining mark with no letter before it in its word (U+00B4 is
    one: NFKC makes it a space and a mark) is `None` too, failing closed; else it is dropped.
    """
    words: list[str] = []
    word: list[str] = []
    fold_marks = False  # the last letter was a-z: a mark after it is an accent to fold
    for ch in unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold()):
        category = unicodedata.category(ch)
        if ch in APOSTROPHES or category == "Cf":
            continue
        if category[0] == "L" or category == "Nd":
            word.append(ch)
            fold_marks = "a" <= ch <= "z"
        elif category[0] == "M":
            if not word and refuse_lone_marks:
                return None
            if word and not fold_marks:
                word.append(ch)
        elif strict and not (ch.isspace() or category[0] in "PZ"):
            return None
        else:
            if word:
                words.append(unicodedata.normalize("NFC", "".join(word)))
            word, fold_marks = [], False
    if word:
        words.append(unicodedata.normalize("NFC", "".join(word)))
    return words


__all__ = ["name_words"]
