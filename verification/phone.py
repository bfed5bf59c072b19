"""Phone numbers: one canonical form (E.164) in, a masked form out.

A number is parsed once, where it enters (what a caller said, a caller ID, a record being
added), with the configured region: `normalize_phone` returns an `E164`, and every layer below
takes that value as it is instead of parsing it again. Everything that logs or speaks a number
uses `mask_phone`, so no full number reaches a log line or the LLM.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

MAX_PHONE_INPUT_CHARS = 64  # longer than any real number with formatting; refuse the rest early
_PARSED_CACHE_SIZE = 4096


class E164(str):
    """A phone number already parsed and validated, in E.164 ("+14155550123").

    Only `normalize_phone` makes one, so a layer handed an `E164` knows it needs no parsing;
    it is a `str` everywhere else (stores, records, logs after masking).
    """

    __slots__ = ()


def normalize_phone(raw: str, default_region: str = "US") -> E164:
    """Return `raw` as E.164 ("+14155550123"); raise `ValueError` if it is not a valid number.

    An `E164` is returned as it is: it was parsed where it came in."""
    if isinstance(raw, E164):
        return raw
    if not isinstance(raw, str):
        raise ValueError("phone number must be text")
    text = raw.strip()
    if not text or len(text) > MAX_PHONE_INPUT_CHARS:
        raise ValueError("not a valid phone number")
    try:
        parsed = phonenumbers.parse(text, default_region.upper())
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a valid phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number")
    return E164(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def parsed_phone(phone: str | None, region: str) -> E164 | None:
    """`phone` as E.164, or None when it is no phone number (None, not text, not valid).

    Cached: parsing a number costs more than a store round trip, and a call names the same
    few numbers again and again. Text longer than any number is refused before the cache, so
    no huge string is ever kept."""
    if not isinstance(phone, str) or len(phone) > MAX_PHONE_INPUT_CHARS:
        return None
    return _parsed(phone, region)


@lru_cache(maxsize=_PARSED_CACHE_SIZE)
def _parsed(phone: str, region: str) -> E164 | None:
    try:
        return normalize_phone(phone, region)
    except ValueError:
        return None


def mask_phone(e164: str) -> str:
    """Say a number without revealing it: "+14155550123" -> "ending in 0123"."""
    digits = [c for c in e164 if "0" <= c <= "9"]
    if len(digits) < 4:
        return "ending in ****"
    return "ending in " + "".join(digits[-4:])
