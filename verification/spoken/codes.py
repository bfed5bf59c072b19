"""Turn what speech-to-text heard into the digits of a code, in every language we have.

Callers read codes in many ways: digit by digit ("four oh two nine nine one", "cuatro cero
dos nueve nueve uno"), in pairs ("twelve thirty four fifty six", "doce treinta y cuatro
cincuenta y seis"), with "double"/"triple", or the STT engine writes numerals ("123 456",
"1-2-3 4-5-6"). Each language's words are read on their own (an English "once" is not the
Spanish eleven): the text is read by the language(s) that know the most of its number
words, and accepted only when they agree.
Anything that does not come out as exactly `length` digits is `None`, never a guess.
"""

from __future__ import annotations

from typing import Final

from .lexer import WORD, lex
from .numbers import read_digits
from .vocabulary import Vocabulary, every_language, merged

MAX_SPOKEN_CHARS: Final = 400


def parse_spoken_code(text: str, length: int = 6) -> str | None:
    """Return the code's digits if `text` holds exactly `length` of them, else `None`.

    Words that are no number are skipped ("my code is", "um"); a word that makes the text a
    quantity in any language ("thousand", "mil", "point", "plus") refuses it.
    """
    if not isinstance(text, str) or len(text) > MAX_SPOKEN_CHARS:
        return None
    if len(text) == length and text.isascii() and text.isdigit():
        return text  # keypad or typed digits: the common case, nothing to read
    tokens = lex(text)
    every = merged()
    refuse = (
        every.unsupported
        | every.plus
        | {word for word, value in every.multipliers.items() if value != 100}
    )
    said = [t.key for t in tokens if t.kind == WORD and _number_word(t.key, every)]
    languages = every_language()
    unknown = [sum(not _number_word(key, words) for key in said) for words in languages]
    fewest = min(unknown, default=0)
    found = {
        read_digits(tokens, words, refuse=refuse)
        for words, skipped in zip(languages, unknown, strict=True)
        if skipped == fewest
    }
    codes = {digits for digits in found if digits is not None and len(digits) == length}
    return codes.pop() if len(found) == 1 and len(codes) == 1 else None


def _number_word(key: str, words: Vocabulary) -> bool:
    return words.is_number_word(key) or key in words.repeats


__all__ = ["MAX_SPOKEN_CHARS", "parse_spoken_code"]
