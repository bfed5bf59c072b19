"""The one filter every word the model writes passes before it is spoken or shown.

`ClinicAgent.llm_node` runs the model's text through `SpeechFilter`; what comes out is what
text-to-speech says, what the transcript shows and what the chat history keeps. Whatever the
model writes:

* text that is a tool call (JSON objects, `<tool_call>` tags, code fences, `name(...)` calls
  of our tools) is never said;
* a run of six or more digits (as digits or as words: "four oh two nine nine one"), which is
  a code or a phone number, is never said: a long run becomes "the number ending in 0123",
  a short one "that code". The clinic's own public numbers (front desk, staff) are kept.

Streaming: text is held back until a sentence is complete (and any brace, tag or fence it
opened is closed), so a number split over chunks is still caught; a phone call speaks in
sentences anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

MIN_DIGITS: Final = 6  # codes are 6 digits; shorter runs (years, hours, ids) are fine
PHONE_DIGITS: Final = 7
FALLBACK: Final = "Sorry, could you say that again?"

_DIGIT_WORDS: Final = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_TOOL_NAMES: Final = (
    "verify_identity", "request_otp", "verify_otp", "list_appointments", "find_open_slots",
    "book_appointment", "cancel_appointment", "reschedule_appointment", "transfer_to_staff",
)  # fmt: skip
_MONTHS: Final = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# A digit, or a digit word, as one token; tokens joined by separators form a run.
_WORDS: Final = "|".join(sorted(_DIGIT_WORDS, key=len, reverse=True))
_TOKEN: Final = rf"(?:\d|(?<![a-z])(?:{_WORDS})(?![a-z]))"
_RUN: Final = re.compile(rf"\+?{_TOKEN}(?:[\s\-.()+]*{_TOKEN})*", re.IGNORECASE)
# Single digits listed with commas ("4, 0, 2, 9, 9, 1"); "9, 10, 11" is not such a run.
_SINGLE: Final = rf"(?:(?<!\d)\d(?!\d)|(?<![a-z])(?:{_WORDS})(?![a-z]))"
_LISTED: Final = re.compile(rf"{_SINGLE}(?:[\s,\-.]+{_SINGLE})+", re.IGNORECASE)
# Dates written out ("April 12 1985", "12 April 1985", "2026-12-01") are not numbers to hide.
_DATES: Final = re.compile(
    rf"\b{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\.?,?\s+\d{{4}}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b",
    re.IGNORECASE,
)
# What marks a sentence as (part of) a tool call written out as text.
_TOOL_CALL_MARKS: Final = re.compile(
    r"[{}]|<\s*/?\s*(?:tool|function)|<\||\|>|```|\[\s*[\"{]|\"(?:name|arguments)\"\s*:"
    r"|\b(?:functions\.)?(?:" + "|".join(_TOOL_NAMES) + r")\s*[(:]",
    re.IGNORECASE,
)
_SENTENCE_END: Final = re.compile(r"[.!?\n]+\s+")


def _digits(run: str) -> str:
    words = re.findall(r"\d|[a-z]+", run.lower())
    return "".join(w if w.isdigit() else _DIGIT_WORDS.get(w, "") for w in words)


def _balanced(text: str) -> bool:
    """Every brace, bracket, parenthesis, angle bracket and code fence opened is closed."""
    pairs = (("{", "}"), ("[", "]"), ("(", ")"), ("<", ">"))
    return all(text.count(a) <= text.count(b) for a, b in pairs) and text.count("```") % 2 == 0


def _sentences(text: str) -> list[str]:
    """`text` cut after each sentence end that closes every structure opened before it and
    is not inside a number ("415. 555" stays together); the tail is the last piece."""
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        before = text[match.start() - 1 : match.start()]
        if end >= len(text) or text[end].isdigit() or before.isdigit():
            continue
        if _balanced(text[:end]):
            pieces.append(text[start:end])
            start = end
    pieces.append(text[start:])
    return pieces


class SpeechFilter:
    """Streaming filter for one reply: `feed` chunks, then `finish`."""

    def __init__(self, allowed_numbers: Iterable[str] = ()) -> None:
        # the national digits of numbers the clinic wants said (its own front desk)
        self._allowed = {_digits(n)[-10:] for n in allowed_numbers if len(_digits(n)) >= 7}
        self._pending = ""
        self._emitted = False
        self._dropped = False

    def feed(self, chunk: str) -> str:
        """Text that is safe to emit now (complete sentences), possibly empty."""
        self._pending += chunk
        *ready, self._pending = _sentences(self._pending)
        return "".join(self._clean(sentence) for sentence in ready)

    def finish(self) -> str:
        """The rest, at the end of the reply (a fallback if only a tool call was written)."""
        rest, self._pending = _sentences(self._pending), ""
        text = "".join(self._clean(sentence) for sentence in rest)
        if not self._emitted and self._dropped:
            self._emitted = True
            return FALLBACK
        return text

    def _clean(self, sentence: str) -> str:
        """One sentence as it may be said: dropped if it is (part of) a tool call, with long
        digit runs hidden."""
        if _TOOL_CALL_MARKS.search(sentence):
            self._dropped = True
            return ""
        cleaned = self._hide_numbers(sentence)
        if cleaned.strip():
            self._emitted = True
        return cleaned

    def _hide_numbers(self, text: str) -> str:
        dates = [m.span() for m in _DATES.finditer(text)]

        def replace(match: re.Match[str]) -> str:
            run = match.group()
            if any(start <= match.start() and match.end() <= end for start, end in dates):
                return run
            digits = _digits(run)
            if len(digits) < MIN_DIGITS or digits[-10:] in self._allowed:
                return run
            trail = run[len(run.rstrip(" ,.-()")) :]
            if len(digits) >= PHONE_DIGITS:
                return f"the number ending in {digits[-4:]}{trail}"
            return f"that code{trail}"

        return _LISTED.sub(replace, _RUN.sub(replace, text))


def filter_text(text: str, allowed_numbers: Iterable[str] = ()) -> str:
    """The whole of `text` through the filter at once (for `session.say` and tests)."""
    speech = SpeechFilter(allowed_numbers)
    return speech.feed(text) + speech.finish()
