"""Comparing a name the caller said with the name on a record, failing closed.

Speech-to-text writes "Jayne Doe" for Jane Doe and "Smyth" for Smith, and callers add
punctuation, accents and odd spacing. Matching feeds identity checks, so it is conservative,
and it never succeeds on less than the whole name:

* a name is compared as the Unicode text it is: NFKC, case folded, punctuation and spaces
  between words dropped, apostrophes inside a word dropped ("O'Brien" -> "obrien"), accents
  on Latin letters folded ("José" -> "jose"); letters and marks of every other script are kept
  as they are ("Иван", "王小明", "محمد", "søren"), and so are digits ("Caller 12");
* a name holding anything else (symbols, emoji, control characters, text longer than
  `MAX_NAME_INPUT_CHARS`) cannot be compared and normalises to "": it matches nothing, on
  either side, so a record whose name cannot be compared is never matched by a blank,
  partial or garbled name;
* first and last name parts must each match, in order; middle names may be left out by
  either side, but when both give them they must match too;
* a part matches if equal after normalisation; parts in plain a-z letters may also match if
  they sound alike (same `sound_key`) and are at most three edits apart ("Doe"/"Dough"), or
  are one edit apart and both have five or more letters (a typo). Parts in any other script
  match only exactly: the sound rules are English spelling rules.

The work is bounded whatever the input: input is refused past `MAX_NAME_INPUT_CHARS`, edit
distances are computed only for parts of at most `MAX_FUZZY_PART_CHARS` letters whose lengths
differ by at most three. `name_keys` gives the index keys the record backends store, so a
lookup by name reads only records that could match (their first and last parts share a key).

The date of birth is always compared exactly by the caller of `names_match`; a fuzzy name
never stands in for a date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from verification.spoken.names import name_words

MAX_NAME_INPUT_CHARS: Final = 120
MAX_FUZZY_PART_CHARS: Final = 30
# `patients_named` returns at most this many records (a name shared by more is not an identity)
MAX_NAMED_PATIENTS: Final = 50
_MAX_SOUND_EDITS: Final = 3
_TYPO_MIN_CHARS: Final = 5

_VOWELS: Final = frozenset("aeiouy")
_ASCII_WORD = re.compile(r"[a-z]+", re.ASCII)
_SOUND_REWRITES: Final = (
    (re.compile(r"ph"), "f"),
    (re.compile(r"ck"), "k"),
    (re.compile(r"gh"), ""),
    (re.compile(r"^kn"), "n"),
    (re.compile(r"^wr"), "r"),
    (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"c"), "k"),
    (re.compile(r"q"), "k"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"z"), "s"),
    (re.compile(r"(?<=[^cstp])h|(?<=^)h(?=[^aeiouy])"), ""),
)


def normalize_name(raw: str) -> str:
    """The comparable form: words separated by single spaces, or "" if it cannot be compared.

    " José  O'Brien-Smith. " -> "jose obrien smith"; "Иван Петров" -> "иван петров";
    "Jane Doe ☺" -> "" (a symbol is not part of a name we can compare).
    """
    if not isinstance(raw, str) or len(raw) > MAX_NAME_INPUT_CHARS:
        return ""
    # A symbol, or a mark with no letter to sit on, is refused, not dropped.
    words = name_words(raw, strict=True, refuse_lone_marks=True)
    return "" if words is None else " ".join(words)


def name_parts(raw: str) -> list[str]:
    return normalize_name(raw).split()


def is_plain(part: str) -> bool:
    """Only a-z letters: the parts the English sound rules and typo rule apply to."""
    return _ASCII_WORD.fullmatch(part) is not None


def sound_key(part: str) -> str:
    """A rough key for how an English-spelled name part sounds: "jayne"/"jane" -> "jan",
    "dough"/"doe" -> "do", "smyth"/"smith" -> "smith", "jon"/"john" -> "jon"."""
    text = part
    for pattern, replacement in _SOUND_REWRITES:
        text = pattern.sub(replacement, text)
    out: list[str] = []
    for ch in text:
        if out and ch in _VOWELS and out[-1] in _VOWELS:
            continue  # a run of vowels sounds like its first vowel: "ay", "oe", "ou"
        if out and ch == out[-1]:
            continue  # doubled letters
        out.append(ch)
    key = "".join(out).replace("y", "i")
    if len(key) > 2 and key.endswith("e"):
        key = key[:-1]  # silent final e: "jane" -> "jan"
    return key


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance (insert, delete, substitute, swap neighbours)."""
    if a == b:
        return 0
    rows = len(a) + 1
    cols = len(b) + 1
    d = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        d[i][0] = i
    for j in range(cols):
        d[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def parts_match(said: str, on_file: str) -> bool:
    """Whether two normalised name parts are the same name, allowing for how it was heard."""
    if not said or not on_file:
        return False
    if said == on_file:
        return True
    if not (is_plain(said) and is_plain(on_file)):
        return False  # other scripts (and Latin letters without a-z form) match only exactly
    if max(len(said), len(on_file)) > MAX_FUZZY_PART_CHARS:
        return False
    if abs(len(said) - len(on_file)) > _MAX_SOUND_EDITS:
        return False
    distance = edit_distance(said, on_file)
    if distance <= _MAX_SOUND_EDITS and sound_key(said) == sound_key(on_file):
        return True
    return distance == 1 and min(len(said), len(on_file)) >= _TYPO_MIN_CHARS


def names_match(said: str, on_file: str) -> bool:
    """Whether the name a caller said is the name on the record (see the module docstring)."""
    a = name_parts(said)
    b = name_parts(on_file)
    if not a or not b:
        return False
    if len(a) == 1 or len(b) == 1:
        return len(a) == len(b) and parts_match(a[0], b[0])
    if not (parts_match(a[0], b[0]) and parts_match(a[-1], b[-1])):
        return False
    middle_a, middle_b = a[1:-1], b[1:-1]
    if not middle_a or not middle_b:
        return True
    return len(middle_a) == len(middle_b) and all(
        parts_match(x, y) for x, y in zip(middle_a, middle_b, strict=True)
    )


def is_exact(said: str, on_file: str) -> bool:
    """Same name after normalisation (used to prefer an exact record over fuzzy ones).

    A name that cannot be compared is exactly nothing, not even itself.
    """
    normalised = normalize_name(said)
    return bool(normalised) and normalised == normalize_name(on_file)


@dataclass(frozen=True, slots=True)
class NameKeys:
    """Index keys of a name's first and last parts (see `name_keys`)."""

    first: frozenset[str]
    last: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.first and self.last)


def part_keys(part: str) -> frozenset[str]:
    """Keys such that any two parts that `parts_match` share at least one.

    The part itself ("=doe"); for plain parts its sound key ("~do"); and for plain parts of
    five or more letters the part and each of its one-letter deletions ("-smith", "-mith",
    ...), which two parts one edit apart (a typo) always share.
    """
    keys = {"=" + part}
    if is_plain(part) and len(part) <= MAX_FUZZY_PART_CHARS:
        keys.add("~" + sound_key(part))
        if len(part) >= _TYPO_MIN_CHARS:
            keys.add("-" + part)
            keys.update("-" + part[:i] + part[i + 1 :] for i in range(len(part)))
    return frozenset(keys)


def name_keys(full_name: str) -> NameKeys:
    """Index keys such that two names that `names_match` share a first key and a last key.

    Names match only if their first parts match and their last parts match, so a record can
    match only if it shares one of each. A name that cannot be compared has no keys (falsy).
    """
    parts = name_parts(full_name)
    if not parts:
        return NameKeys(frozenset(), frozenset())
    return NameKeys(first=part_keys(parts[0]), last=part_keys(parts[-1]))


__all__ = [
    "MAX_FUZZY_PART_CHARS",
    "MAX_NAMED_PATIENTS",
    "MAX_NAME_INPUT_CHARS",
    "NameKeys",
    "edit_distance",
    "is_exact",
    "is_plain",
    "name_keys",
    "name_parts",
    "names_match",
    "normalize_name",
    "part_keys",
    "parts_match",
    "sound_key",
]
