"""Phone numbers: one canonical form (E.164) in, a masked form out.

Everything that stores, compares or rate-limits by phone uses `normalize_phone` first, so
"(415) 555-0123" and "+1 415 555 0123" are one number. Everything that logs or speaks a
number uses `mask_phone`, so no full number reaches a log line or the LLM.
"""

from __future__ import annotations

import phonenumbers

MAX_PHONE_INPUT_CHARS = 64  # longer than any real number with formatting; refuse the rest early


def normalize_phone(raw: str, default_region: str = "US") -> str:
    """Return `raw` as E.164 ("+14155550123"); raise `ValueError` if it is not a valid number."""
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
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """Say a number without revealing it: "+14155550123" -> "ending in 0123"."""
    digits = [c for c in e164 if "0" <= c <= "9"]
    if len(digits) < 4:
        return "ending in ****"
    return "ending in " + "".join(digits[-4:])
