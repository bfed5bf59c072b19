"""Did the caller say (or the speech-to-text write) this code, or this phone number?

Interim reader, shaped like `verification.said` (which replaces it): `said_code` returns the
place where the digits were said, so a caller who said a code once has it checked once (the
toolset keeps the places already used), and `said_phone` reads a number's national digits.
A code may be spread over several turns ("four oh two" ... "nine nine one"), so the turns
are read as one run of words.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

import phonenumbers

from verification import parse_spoken_code

# Only the most recent words are read: a code is said right after it arrives.
MAX_WORDS_READ = 120


class Said(NamedTuple):
    """Where a value was said: (turn, word) of its first and last word."""

    first: tuple[int, int]
    last: tuple[int, int]


def said_code(guess: str, turns: Sequence[str], *, used: Collection[Said] = ()) -> Said | None:
    """The first place not in `used` where a run of consecutive words reads as `guess`.

    Only runs that start and end on a word that counts (not filler) are read, and a run holds
    at most one counting word per digit, so the work stays small whatever was said.
    """
    places = [(t, w) for t, turn in enumerate(turns) for w, _ in enumerate(turn.split())]
    words = [word for turn in turns for word in turn.split()]
    places, words = places[-MAX_WORDS_READ:], words[-MAX_WORDS_READ:]
    counting = [i for i, word in enumerate(words) if not _is_filler(word.lower())]
    for first, start in enumerate(counting):
        for end in counting[first : first + len(guess)]:
            if parse_spoken_code(" ".join(words[start : end + 1]), len(guess)) == guess:
                place = Said(places[start], places[end])
                if place not in used:
                    return place
    return None


def said_phone(e164: str, turns: Sequence[str], region: str) -> bool:
    """True when the caller said this number's national digits in these turns."""
    national = str(phonenumbers.parse(e164, region).national_number)
    return said_code(national, turns) is not None


@lru_cache(maxsize=1024)
def _is_filler(word: str) -> bool:
    """A word the code reader skips ("my", "is", "um"): put before "1", it leaves "1"."""
    return parse_spoken_code(f"{word} 1", 1) == "1"


def caller_said_code(guess: str, caller_turns: Iterable[str]) -> bool:
    """True when `guess` was said somewhere in `caller_turns` (the clinic agent's reader,
    until it reads `verification.said`)."""
    return said_code(guess, list(caller_turns)) is not None
