"""Which number a `request_otp` call means, and whether the caller gave it.

The model names the number to text as the caller's words allow: digits the caller said in
this call, "caller" (and words like it) for the number they are calling from, or "known" for
the number the host vouches for. The caller ID's digits written out by the model are not the
caller agreeing to it: only the word is. A number is parsed once, here, with the service's
region (an `E164` from then on).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from verification.phone import parsed_phone
from verification.said import said_phone

from . import replies
from .replies import Refusal

# "caller", "the caller's number", "this phone", "my own number": words that mean the number
# the caller is calling from. Any other word (a name, "my wife's") is not taken for it.
CALLER_ID_WORDS = frozenset({"caller", "callers", "this", "my", "own", "same", "current"})
CALLER_ID_FILLER = frozenset({"the", "s", "number", "phone", "id", "line", "of", "cell"})
KNOWN_WORD = "known"


def number_meant(
    said: str,
    *,
    caller_phone: str | None,
    known_phone: str | None,
    caller_turns: Sequence[str],
    region: str,
) -> str:
    """The number to send the code to. Raises `Refusal` for a keyword whose number is not
    known, or a number the caller never said; text that is no phone number is returned as
    it is (the service answers it as invalid, like any caller's slip)."""
    if means_caller_id(said):
        if caller_phone is None:
            raise Refusal(replies.CALLER_NUMBER_UNKNOWN)
        return caller_phone
    if said.strip().lower() == KNOWN_WORD:
        if known_phone is None:
            raise Refusal(replies.KNOWN_NUMBER_UNKNOWN)
        return known_phone
    e164 = parsed_phone(said, region)
    if e164 is None:
        return said
    if not said_phone(e164, caller_turns, region):
        raise Refusal(replies.NUMBER_NOT_SAID)
    return e164


def means_caller_id(said: str) -> bool:
    if any(c.isdigit() for c in said):
        return False
    words = set(re.findall(r"[a-z]+", said.lower())) - CALLER_ID_FILLER
    return bool(words) and words <= CALLER_ID_WORDS
