"""Which language the caller speaks: the call follows them when they switch.

A caller is answered in the language they speak. Speech-to-text in multilingual mode
(Deepgram nova-3, `language="multi"`) names the language of each final transcript; a typed
turn carries no such label, so the caller's own words decide: each language folder lists its
common words (`prompts/<language>/words.txt`), and a turn with more of another language's
words than of the current one switches the call. Names and numbers decide nothing, so
"Maria Garcia" or a code read out never switches it.

On a switch the call's language changes at once (`CallState.language`: the code's text
message, and what the agent says word for word), and the agent's instructions follow.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from livekit.agents import AgentSession, ConversationItemAddedEvent, UserInputTranscribedEvent

from .instructions import DEFAULT_LANGUAGE, PROMPTS_DIR, languages
from .state import CallState

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@cache
def common_words(language: str) -> frozenset[str]:
    path = PROMPTS_DIR / language / "words.txt"
    if not path.is_file():
        return frozenset()
    lines = (line for line in path.read_text(encoding="utf-8").splitlines() if line[:1] != "#")
    return frozenset(word for line in lines for word in line.lower().split())


def guess_language(text: str, current: str) -> str:
    """The language `text` is written in, as far as its common words tell; `current` when
    they tell nothing more (a name, a number, a word both languages share)."""
    words = _WORD.findall(text.lower())
    scores = {language: sum(w in common_words(language) for w in words) for language in languages()}
    best = max(scores, key=lambda language: (scores[language], language == current))
    return best if scores[best] > scores.get(current, 0) else current


def stt_language(code: str | None) -> str | None:
    """A speech-to-text language tag ("es", "es-US", "ES") as one of our folders, or None."""
    if not code:
        return None
    base = str(code).lower().replace("_", "-").split("-")[0]
    return base if base in languages() else None


class CallLanguage:
    """Follows one session's caller from language to language (see the module)."""

    def __init__(
        self, session: AgentSession[Any], state: CallState, on_change: Callable[[str], None]
    ) -> None:
        self.state = state
        self.on_change = on_change
        self._heard: str | None = None  # the last final transcript's own language label
        session.on("user_input_transcribed", self._on_transcript)
        session.on("conversation_item_added", self._on_item)

    def _on_transcript(self, event: UserInputTranscribedEvent) -> None:
        if event.is_final:
            self._heard = stt_language(event.language)

    def _on_item(self, event: ConversationItemAddedEvent) -> None:
        item = event.item
        if item.type != "message" or item.role != "user":
            return
        heard, self._heard = self._heard, None
        language = heard or guess_language(item.text_content or "", self.state.language)
        self.switch(language)

    def switch(self, language: str) -> None:
        if language == self.state.language or language not in languages():
            return
        self.state.language = language
        self.on_change(language)


__all__ = ["DEFAULT_LANGUAGE", "CallLanguage", "common_words", "guess_language", "stt_language"]
