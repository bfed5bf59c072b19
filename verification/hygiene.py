"""Speech hygiene: what a host's model writes, made fit to be spoken, shown and kept.

Every word a voice agent's model writes becomes speech, a transcript line and chat history.
A host passes it through `SpeechFilter` (in its `llm_node`; `verification.livekit` wires it)
and whatever the model writes:

* text that is a tool call (JSON objects, `<tool_call>` tags, code fences, `name(...)` of the
  host's tools) is never said;
* a code or a full phone number is never said, however it is written: one rule counts the
  digits in a sentence (numerals of any script, number words of every language, "oh",
  "double"; dates, times, years, amounts, lists of hours and the host's own numbers are
  left out, see `verification.spoken.mentions`), and when a sentence, or a sentence with
  the ones right before it, holds a code's worth of digits, its numbers are replaced by
  "that code" / "the number ending in 0123" (in the filter's language).

Streaming: text is held back until a sentence is complete (and any brace, tag or fence it
opened is closed), and a sentence with a few digits is held until the next one shows whether
the number goes on ("four oh two. Nine nine one."). A phone call speaks in sentences anyway.

What the caller hears when the model wrote nothing but a tool call is the host's choice:
after `finish()`, `only_tool_call` says so, and the host says something useful (not the same
sentence turn after turn).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from .spoken.mentions import PHONE_DIGITS, Mention, allowed_digits, count_digits
from .spoken.vocabulary import vocabulary

MIN_DIGITS: Final = 6  # a code's length: fewer digits in a stretch of sentences are said
MAX_PENDING_CHARS: Final = 2_000  # an unfinished "sentence" longer than this is cut anyway

_TOOL_CALL: Final = (
    r"[{}]|<\s*/?\s*(?:tool|function)|<\||\|>|```|\[\s*[\"{]|\"(?:name|arguments)\"\s*:"
    r"|\bfunctions\.\w+"
)
_TOOL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SENTENCE_END: Final = re.compile(r"[.!?\n]+\s+")


_OPENERS: Final = {"{": "}", "[": "]", "(": ")", "<": ">"}
_MARKS: Final = re.compile(r"[{}\[\]()<>]|```")


def _sentences(text: str) -> list[str]:
    """`text` cut after each sentence end that closes every brace, bracket, parenthesis,
    angle bracket and code fence opened in its sentence and is not inside a number ("415.
    555" stays together); the tail is the last piece. One pass: linear in the text."""
    pieces: list[str] = []
    start = 0
    opened = dict.fromkeys(_OPENERS, 0)
    closed = dict.fromkeys(_OPENERS, 0)
    fences = 0
    marks = _MARKS.finditer(text)
    mark = next(marks, None)
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        while mark is not None and mark.start() < end:
            found = mark.group()
            if found == "```":
                fences += 1
            elif found in _OPENERS:
                opened[found] += 1
            else:
                closed[next(o for o, c in _OPENERS.items() if c == found)] += 1
            mark = next(marks, None)
        before = text[match.start() - 1 : match.start()]
        if end >= len(text) or text[end].isdigit() or before.isdigit():
            continue
        if fences % 2 == 0 and all(opened[o] <= closed[o] for o in _OPENERS):
            pieces.append(text[start:end])
            start = end
            opened, closed, fences = dict.fromkeys(_OPENERS, 0), dict.fromkeys(_OPENERS, 0), 0
    pieces.append(text[start:])
    return pieces


class SpeechFilter:
    """Streaming filter for one reply: `feed` chunks, then `finish`.

    `allowed_numbers`: the host's own numbers it wants said (its front desk); `tool_names`:
    the host's tools, whose `name(...)` written as text is a tool call; `language`: the
    language of the words put in place of a hidden number.
    """

    def __init__(
        self,
        allowed_numbers: Iterable[str] = (),
        tool_names: Iterable[str] = (),
        *,
        language: str = "en",
    ) -> None:
        self._allowed = allowed_digits(allowed_numbers)
        names = [n for n in tool_names if isinstance(n, str) and _TOOL_NAME.fullmatch(n)]
        named = rf"|\b(?:functions\.)?(?:{'|'.join(map(re.escape, names))})\s*[(:]"
        self._tool_call = re.compile(_TOOL_CALL + (named if names else ""), re.IGNORECASE)
        self._hidden = vocabulary(language).hidden
        self._pending = ""
        self._held: list[tuple[str, list[Mention]]] = []  # sentences with a few digits
        self._held_digits = 0
        self._hiding = False  # this stretch of sentences holds a code's worth of digits
        self._emitted = False
        self._dropped = False

    @property
    def only_tool_call(self) -> bool:
        """True when tool-call text was dropped and nothing else was said (so far)."""
        return self._dropped and not self._emitted

    def feed(self, chunk: str) -> str:
        """Text that is safe to emit now (complete sentences), possibly empty."""
        text = chunk if isinstance(chunk, str) else ""
        ready: list[str] = []
        for at in range(0, len(text), MAX_PENDING_CHARS):  # bounded work per piece
            *complete, self._pending = _sentences(self._pending + text[at : at + MAX_PENDING_CHARS])
            ready += complete
            if len(self._pending) > MAX_PENDING_CHARS:  # no sentence end in sight: cut here
                ready.append(self._pending)
                self._pending = ""
        return self._said("".join(self._sentence(s) for s in ready))

    def finish(self) -> str:
        """The rest, at the end of the reply (`only_tool_call` then tells what was dropped)."""
        rest, self._pending = _sentences(self._pending), ""
        text = "".join(self._sentence(s) for s in rest) + self._release()
        self._hiding = False
        return self._said(text)

    def _said(self, text: str) -> str:
        if text.strip():
            self._emitted = True
        return text

    def _sentence(self, sentence: str) -> str:
        """One sentence: dropped if it is (part of) a tool call; held, said or hidden by the
        digits it and the sentences just before it hold."""
        if self._tool_call.search(sentence):
            self._dropped = True
            return ""
        mentions = count_digits(sentence, self._allowed)
        if not mentions:
            self._hiding = False
            return self._release() + sentence
        if self._hiding:
            return self._hide(sentence, mentions)
        self._held.append((sentence, mentions))
        self._held_digits += sum(len(m.digits) for m in mentions)
        if self._held_digits < MIN_DIGITS:
            return ""
        self._hiding = True
        held, self._held, self._held_digits = self._held, [], 0
        return "".join(self._hide(s, m) for s, m in held)

    def _release(self) -> str:
        """The held sentences as they are: the stretch ended short of a code."""
        held, self._held, self._held_digits = self._held, [], 0
        return "".join(sentence for sentence, _ in held)

    def _hide(self, sentence: str, mentions: list[Mention]) -> str:
        for mention in sorted(mentions, key=lambda m: m.start, reverse=True):
            if len(mention.digits) >= PHONE_DIGITS:
                words = self._hidden["phone"].format(last4=mention.digits[-4:])
            else:
                words = self._hidden["code"]
            before = sentence[: mention.start].rstrip()
            if not before or before[-1] in ".!?":
                words = words[:1].upper() + words[1:]
            sentence = sentence[: mention.start] + words + sentence[mention.end :]
        return sentence


def filter_text(
    text: str,
    allowed_numbers: Iterable[str] = (),
    tool_names: Iterable[str] = (),
    *,
    language: str = "en",
) -> str:
    """The whole of `text` through the filter at once (for `session.say` and tests)."""
    speech = SpeechFilter(allowed_numbers, tool_names, language=language)
    return speech.feed(text) + speech.finish()


__all__ = ["MIN_DIGITS", "SpeechFilter", "filter_text"]
