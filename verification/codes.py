"""Generating codes and the only form in which they are ever stored: a peppered HMAC.

The digest binds the code to the phone and the call (`session_id`), so a stored digest is
useless without the server-side pepper, and a code issued to one call cannot be replayed
in another.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

_SEPARATOR = b"\x1f"  # unit separator: cannot occur in E.164, session ids are ours


def generate_code(length: int = 6) -> str:
    """A uniformly random string of `length` decimal digits, from the OS CSPRNG."""
    return f"{secrets.randbelow(10**length):0{length}d}"


def code_digest(pepper: bytes, phone_e164: str, session_id: str, code: str) -> bytes:
    """HMAC-SHA256(pepper, phone | session | code): what the store keeps instead of the code."""
    message = _SEPARATOR.join((phone_e164.encode(), session_id.encode(), code.encode()))
    return hmac.new(pepper, message, hashlib.sha256).digest()


class CodeDigester:
    """`code_digest` for one pepper, keyed once: each digest copies the keyed state instead
    of deriving the HMAC key again (the same bytes, for less work per guess)."""

    def __init__(self, pepper: bytes) -> None:
        self._keyed = hmac.new(pepper, digestmod=hashlib.sha256)

    def __call__(self, phone_e164: str, session_id: str, code: str) -> bytes:
        mac = self._keyed.copy()
        mac.update(_SEPARATOR.join((phone_e164.encode(), session_id.encode(), code.encode())))
        return mac.digest()


def phone_reference(pepper: bytes, phone_e164: str) -> str:
    """A short, stable, non-reversible tag for a phone, so logs can correlate without the number."""
    return hmac.new(pepper, b"phone-ref" + _SEPARATOR + phone_e164.encode(), "sha256").hexdigest()[
        :12
    ]


def caller_reference(pepper: bytes, caller_e164: str) -> str:
    """The tag another caller's own limits are kept under: a keyed hash of their number, so
    the store never holds it in clear (20 hex digits: never one of the stores' own names
    for the phone's own or a withheld caller ID)."""
    digest = hmac.new(pepper, b"caller-ref" + _SEPARATOR + caller_e164.encode(), "sha256")
    return digest.hexdigest()[:20]
