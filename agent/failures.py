"""When a service fails in the middle of a call: the caller hears a sentence, never silence.

LiveKit retries a failing request to the model, speech-to-text or text-to-speech by itself
(a *recoverable* error). When it gives up on one reply (an *unrecoverable* error) it goes on
with the next turn, and after a few in a row it closes the session. Left at that, a phone
caller hears nothing and the line goes dead, and the typed console ends in a traceback.

`FailureWatch` listens to the session's errors. After the first failed reply the caller hears
a short apology and the next turn tries again; after `GIVE_UP_AFTER` failed replies with no
good one between, the call goes to a person (`agent/handoff.py`): a transfer on the phone
line, the front desk's number anywhere else, and then the call ends. A reply that works
starts the count again. What the call has proven (`CallState`) lives on through a retry.
Each failure is also one line in the log naming the service, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from livekit.agents import AgentSession, ConversationItemAddedEvent, ErrorEvent

from . import handoff
from .instructions import phrase
from .state import CallState

log = logging.getLogger(__name__)

# Failed replies in a row after which the caller is handed to a person.
GIVE_UP_AFTER = 2

SERVICES = {"llm_error": "the language model", "stt_error": "speech-to-text",
            "tts_error": "text-to-speech"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ServiceFailure:
    """One reply a service could not give: which service, and what it said (one line)."""

    kind: str
    service: str
    detail: str

    @property
    def line(self) -> str:
        return f"{self.service} failed: {self.detail}"


class FailureWatch:
    """Turns a session's service failures into what the caller hears (see the module)."""

    def __init__(self, session: AgentSession[Any], state: CallState) -> None:
        self.session = session
        self.state = state
        self.failures: list[ServiceFailure] = []
        self.in_a_row = 0
        self.handed_off = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._said: set[str] = set()  # our own sentences are not the model answering
        session.on("error", self._on_error)
        session.on("conversation_item_added", self._on_item)

    @property
    def last(self) -> ServiceFailure | None:
        return self.failures[-1] if self.failures else None

    def close(self) -> None:
        self.session.off("error", self._on_error)
        self.session.off("conversation_item_added", self._on_item)

    async def settled(self) -> None:
        """Wait until what the watch started saying (and doing) is done."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _on_item(self, event: ConversationItemAddedEvent) -> None:
        item = event.item
        if (
            item.type == "message"
            and item.role == "assistant"
            and item.text_content not in self._said
        ):
            self.in_a_row = 0  # the model answered: the service is back

    def _on_error(self, event: ErrorEvent) -> None:
        error = event.error
        kind = getattr(error, "type", "")
        if getattr(error, "recoverable", True) or kind not in SERVICES or self.handed_off:
            return
        cause = getattr(error, "error", error)
        failure = ServiceFailure(kind, SERVICES[kind], " ".join(str(cause).split())[:300])
        self.failures.append(failure)
        self.in_a_row += 1
        log.error(
            "%s",
            failure.line,
            extra={"session_id": self.state.session_id, "service": kind, "in_a_row": self.in_a_row},
        )
        if self.in_a_row >= GIVE_UP_AFTER:
            self.handed_off = True
            self._start(self._hand_off())
        elif kind != "tts_error":  # without speech there is nothing to say it with
            self._start(self._say(self._phrase(f"retry_{kind}")))

    def _start(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _phrase(self, name: str, **values: str) -> str:
        return phrase(name, self.state.language, **values)

    async def _say(self, text: str) -> None:
        self._said.add(text)
        try:
            await self.session.say(text, allow_interruptions=True)
        except Exception:  # the session may be closing; the failure is logged already
            log.warning(
                "could not apologise to the caller", extra={"session_id": self.state.session_id}
            )

    async def _hand_off(self) -> None:
        """A person takes over: a transfer where there is one, else the desk's number; then
        the call ends (nothing is left to retry with)."""
        giving_up = self._phrase("giving_up")
        if handoff.can_transfer(self.state):
            await self._say(f"{giving_up} {self._phrase('transferring')}")
            if await handoff.transfer(self.state, self.session):
                return
        else:
            desk = handoff.front_desk(self.state.services.options)
            await self._say(f"{giving_up} {self._phrase('call_the_desk', desk=desk)}")
        self.session.shutdown(drain=True)


__all__ = ["GIVE_UP_AFTER", "FailureWatch", "ServiceFailure"]
