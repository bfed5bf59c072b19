"""Did the caller say (or the speech-to-text write) this code in this call?

A model can call `verify_otp` with digits nobody said: invented, or lifted from a date of
birth. Each such guess would cost the caller one of the code's few attempts, so a guess is
evaluated only when its digits occur in the caller's own words since the code was requested,
read the way `parse_spoken_code` reads them ("four oh two 9 9 1" holds 402991). The code may
be spread over several turns ("four oh two" ... "nine nine one"), so the turns are read as one
run of words. Keypad entry does not pass through here: it is the caller's by definition.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from verification import parse_spoken_code

# Only the most recent words are read: a code is said right after it arrives.
MAX_WORDS_READ = 120


def caller_said_code(guess: str, caller_turns: Iterable[str]) -> bool:
    """True when some run of consecutive words in `caller_turns` reads as exactly `guess`.

    Only runs that start and end on a word that counts (not filler) are read, and a run holds
    at most one counting word per digit, so the work stays small whatever was said.
    """
    words = [word for turn in caller_turns for word in turn.split()][-MAX_WORDS_READ:]
    counting = [i for i, word in enumerate(words) if not _is_filler(word.lower())]
    for first, start in enumerate(counting):
        for end in counting[first : first + len(guess)]:
            if parse_spoken_code(" ".join(words[start : end + 1]), len(guess)) == guess:
                return True
    return False


@lru_cache(maxsize=1024)
def _is_filler(word: str) -> bool:
    """A word the code reader skips ("my", "is", "um"): put before "1", it leaves "1"."""
    return parse_spoken_code(f"{word} 1", 1) == "1"
