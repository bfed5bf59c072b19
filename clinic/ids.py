"""Record ids short enough for an LLM to read aloud and pass back.

An id is one prefix letter (P patient, S slot, A appointment) and five symbols from an
alphabet without look-alikes (no 0/O, 1/I/L, U): "A7K3MZ". 30**5 ≈ 24 million ids per kind,
drawn with `secrets`, so ids are not sequential or guessable from one another (authorisation
never rests on knowing an id anyway; the agent checks verification in code).

Input ids are normalised before lookup: case, spaces, dashes and punctuation are ignored, so
"a7k-3mz" and "A 7 K 3 M Z" find "A7K3MZ".
"""

from __future__ import annotations

import secrets
from typing import Final, Literal

ID_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_BODY_LENGTH: Final = 5
IdKind = Literal["patient", "slot", "appointment"]
PREFIXES: Final[dict[IdKind, str]] = {"patient": "P", "slot": "S", "appointment": "A"}
_MAX_ID_INPUT_CHARS: Final = 40


def new_id(kind: IdKind) -> str:
    """A fresh random id for `kind`; callers retry on the (rare) primary-key collision."""
    body = "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_BODY_LENGTH))
    return PREFIXES[kind] + body


def normalize_id(raw: str) -> str:
    """Canonical form of an id the caller or LLM typed: upper-case letters and digits only.

    Returns "" for text that cannot be an id, which then simply matches nothing.
    """
    if not isinstance(raw, str) or len(raw) > _MAX_ID_INPUT_CHARS:
        return ""
    return "".join(c for c in raw.upper() if c.isascii() and c.isalnum())


__all__ = ["ID_ALPHABET", "IdKind", "new_id", "normalize_id"]
