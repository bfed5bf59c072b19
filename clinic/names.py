"""Comparing a name the caller said with the name on a record.

Speech-to-text writes "Jayne Doe" for Jane Doe and "Smyth" for Smith, and callers add
punctuation, accents and odd spacing. Matching is deliberately conservative because it feeds
identity checks:

* names are normalised (accents folded, case folded, punctuation dropped, spaces collapsed);
* first and last name parts must each match, in order; middle names may be left out by
  either side, but when both give them they must match too;
* a part matches if equal after normalisation, or if both parts sound alike (same
  `sound_key`) and are at most three edits apart ("Doe"/"Dough", "Lee"/"Leigh"), or if
  they are one edit apart and both have five or more letters (a typo).

The date of birth is always compared exactly by the caller of `names_match`; a fuzzy name
never stands in for a date.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

MAX_NAME_INPUT_CHARS: Final = 120
# `patients_named` returns at most this many records (a name shared by more is not an identity)
MAX_NAMED_PATIENTS: Final = 50

_VOWELS: Final = frozenset("aeiouy")
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
    """Lower-case ASCII words separated by single spaces: " José  O'Brien-Smith. " ->
    "jose obrien smith"."""
    if not isinstance(raw, str):
        return ""
    text = unicodedata.normalize("NFKD", raw[:MAX_NAME_INPUT_CHARS])
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"['\u2019`]", "", text)  # O'Brien -> obrien
    text = re.sub(r"[^a-z]+", " ", text)  # punctuation, digits, other scripts -> spaces
    return " ".join(text.split())


def name_parts(raw: str) -> list[str]:
    return normalize_name(raw).split()


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
    if said == on_file:
        return True
    distance = edit_distance(said, on_file)
    if distance <= 3 and sound_key(said) == sound_key(on_file):
        return True
    return distance == 1 and min(len(said), len(on_file)) >= 5


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
    """Same name after normalisation (used to prefer an exact record over fuzzy ones)."""
    return normalize_name(said) == normalize_name(on_file)


__all__ = [
    "MAX_NAMED_PATIENTS",
    "edit_distance",
    "is_exact",
    "name_parts",
    "names_match",
    "normalize_name",
    "parts_match",
    "sound_key",
]
