"""The words of each language for numbers, months and dates, read from its `numbers.toml`.

Nothing about a language is written in code: `verification/languages/<code>/numbers.toml`
lists its digit words, teens, tens, hundreds, joiners ("and", "y"), repeats ("double"),
months, ordinals and fillers, and every reader here works from those tables. A `Vocabulary`
is one language's table, or the union of all of them (`merged()`) for readers that must
understand whatever language the caller or the model speaks.

Words are compared by `word_key`: case folded, accents dropped, apostrophes removed, so
"Dieciséis", "dieciseis" and "DIECISÉIS" are one word, and "o'clock" is "oclock".
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Any, Final

from .. import languages

log = logging.getLogger(__name__)

APOSTROPHES: Final = frozenset("'\u2019\u02bc`\u00b4")
_NUMBER_TABLES: Final = ("digits", "teens", "tens", "hundreds", "multipliers")
_TABLES: Final = (*_NUMBER_TABLES, "repeats", "months", "ordinals")  # word -> value
_WORD_SETS: Final = ("joiners", "plus", "unsupported", "date_fillers", "hesitations")
_PHRASES: Final = ("time_markers", "amount_words", "quantity_words", "masked_prefixes")


def word_key(word: str) -> str:
    """`word` as the tables compare it: case folded, without accents or apostrophes."""
    decomposed = unicodedata.normalize("NFD", word.casefold())
    return "".join(
        ch for ch in decomposed if unicodedata.category(ch) != "Mn" and ch not in APOSTROPHES
    )


def _table(raw: Mapping[str, Any], name: str) -> Mapping[str, int]:
    entries = raw.get(name, {})
    return MappingProxyType({word_key(word): int(value) for word, value in entries.items()})


def _words(raw: Mapping[str, Any], name: str) -> frozenset[str]:
    return frozenset(word_key(word) for word in raw.get(name, ()))


def _phrases(raw: Mapping[str, Any], name: str) -> tuple[str, ...]:
    return tuple(str(phrase).casefold() for phrase in raw.get(name, ()))


@dataclass(frozen=True)
class Vocabulary:
    """The number and date words of one language (or of several, `merged()`)."""

    languages: tuple[str, ...]
    digits: Mapping[str, int] = field(default_factory=dict)
    teens: Mapping[str, int] = field(default_factory=dict)
    tens: Mapping[str, int] = field(default_factory=dict)
    hundreds: Mapping[str, int] = field(default_factory=dict)
    multipliers: Mapping[str, int] = field(default_factory=dict)
    repeats: Mapping[str, int] = field(default_factory=dict)
    months: Mapping[str, int] = field(default_factory=dict)
    ordinals: Mapping[str, int] = field(default_factory=dict)
    joiners: frozenset[str] = frozenset()
    plus: frozenset[str] = frozenset()
    unsupported: frozenset[str] = frozenset()
    date_fillers: frozenset[str] = frozenset()
    hesitations: frozenset[str] = frozenset()
    ordinal_suffixes: tuple[str, ...] = ()
    time_markers: tuple[str, ...] = ()
    amount_words: tuple[str, ...] = ()
    #: after a small number, a count or a duration ("6-digit code", "5 minutes", "2 tries")
    quantity_words: tuple[str, ...] = ()
    #: before four digits, a number already masked ("ending in 0123")
    masked_prefixes: tuple[str, ...] = ()
    hidden: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_table(cls, language: str, raw: Mapping[str, Any]) -> Vocabulary:
        """One language's `numbers.toml`, as the readers use it."""
        parts: dict[str, Any] = {name: _table(raw, name) for name in _TABLES}
        parts.update({name: _words(raw, name) for name in _WORD_SETS})
        parts.update({name: _phrases(raw, name) for name in _PHRASES})
        parts["ordinal_suffixes"] = tuple(word_key(s) for s in raw.get("ordinal_suffixes", ()))
        parts["hidden"] = MappingProxyType({k: str(v) for k, v in raw.get("hidden", {}).items()})
        return cls(languages=(language,), **parts)

    def is_number_word(self, key: str) -> bool:
        """A word that is (part of) a number: a digit, teen, ten, hundred or multiplier."""
        return any(key in getattr(self, table) for table in _NUMBER_TABLES)


def _merge(vocabularies: tuple[Vocabulary, ...]) -> Vocabulary:
    """The union of several languages' words. A word two languages read differently (a
    digit in one, a month in the other, or two values) is left out: it is read by neither."""
    meanings: dict[str, set[tuple[str, int]]] = {}
    for vocabulary in vocabularies:
        for table in _TABLES:
            for key, value in getattr(vocabulary, table).items():
                meanings.setdefault(key, set()).add((table, value))
    clashing = {key for key, seen in meanings.items() if len(seen) > 1}
    if clashing:
        log.warning("number words read differently by two languages", extra={"words": clashing})

    def union_table(name: str) -> Mapping[str, int]:
        merged: dict[str, int] = {}
        for vocabulary in vocabularies:
            merged.update(getattr(vocabulary, name))
        return MappingProxyType({k: v for k, v in merged.items() if k not in clashing})

    def union_set(name: str) -> frozenset[str]:
        return frozenset().union(*(getattr(v, name) for v in vocabularies))

    def union_tuple(name: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(x for v in vocabularies for x in getattr(v, name)))

    parts: dict[str, Any] = {name: union_table(name) for name in _TABLES}
    parts.update({name: union_set(name) for name in _WORD_SETS})
    parts.update({name: union_tuple(name) for name in (*_PHRASES, "ordinal_suffixes")})
    return Vocabulary(
        languages=tuple(language for v in vocabularies for language in v.languages),
        hidden=vocabularies[0].hidden if vocabularies else {},
        **parts,
    )


@cache
def vocabulary(language: str) -> Vocabulary:
    """The words of `language` (an unknown language reads as the default one)."""
    code = languages.language_or_default(language)
    return Vocabulary.from_table(code, languages.read(code, "numbers"))


@cache
def every_language() -> tuple[Vocabulary, ...]:
    """One vocabulary per language folder that has a `numbers.toml`, default language first."""
    codes = sorted(languages.available(), key=lambda code: code != languages.DEFAULT_LANGUAGE)
    found: list[Vocabulary] = []
    for code in codes:
        try:
            found.append(vocabulary(code))
        except FileNotFoundError:
            log.warning("language has no numbers.toml; its number words are not read",
                        extra={"language": code})  # fmt: skip
    return tuple(found)


@cache
def merged() -> Vocabulary:
    """Every language's words at once (words two languages read differently left out)."""
    return _merge(every_language())


__all__ = ["Vocabulary", "every_language", "merged", "vocabulary", "word_key"]
