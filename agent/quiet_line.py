"""A quiet line ends politely: the agent asks once, then says goodbye and hangs up.

A caller who goes silent (walked away, lost signal, put the phone down) would otherwise hold
a call, and a worker process, forever. LiveKit marks the caller "away" after the session's
`user_away_timeout` of silence on both sides (`QUIET_LINE_SECONDS`). The first time, the
agent asks whether the caller is still there and LiveKit's countdown starts again; if the
caller is still silent when it runs out, the agent says goodbye and hangs up
(`telephony.hang_up`: the session ends and, on the phone line, the room is deleted so the
caller's line drops). Anything the caller says in between starts it all over.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from livekit.agents import AgentSession, ConversationItemAddedEvent, UserStateChangedEvent

from .instructions import phrase
from .state import CallState
from .telephony import hang_up

log = logging.getLogger(__name__)


class QuietLine:
    """Watches one session's caller for silence (see the module)."""

    def __init__(self, session: AgentSession[Any], state: CallState) -> None:
        self.session = session
        self.state = state
        self.asked = False
        self.ended = False
        self._task: asyncio.Task[None] | None = None
        session.on("user_state_changed", self._on_user_state)
        session.on("conversation_item_added", self._on_item)

    def close(self) -> None:
        self.session.off("user_state_changed", self._on_user_state)
        self.session.off("conversation_item_added", self._on_item)

    async def settled(self) -> None:
        """Wait until what the watch started saying (and doing) is done."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    def _on_item(self, event: ConversationItemAddedEvent) -> None:
        if event.item.type == "message" and event.item.role == "user":
            self.asked = False  # the caller said something: the next silence is a new one

    def _on_user_state(self, event: UserStateChangedEvent) -> None:
        if event.new_state == "speaking":
            self.asked = False  # the caller is back
        elif event.new_state == "away" and not self.ended:
            work = self._end() if self.asked else self._ask()
            self._task = asyncio.get_running_loop().create_task(work)

    async def _ask(self) -> None:
        self.asked = True
        log.info("caller silent: asking", extra={"session_id": self.state.session_id})
        await self.session.say(phrase("still_there", self.state.language))
        # the countdown again, from the end of the question (LiveKit's own timer)
        self.session.reset_away_timer()

    async def _end(self) -> None:
        self.ended = True
        log.info("caller silent: ending the call", extra={"session_id": self.state.session_id})
        await self.session.say(phrase("quiet_goodbye", self.state.language))
        await hang_up(self.session, self.state)


__all__ = ["QuietLine"]
