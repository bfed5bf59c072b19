"""Keypad (DTMF) code entry on phone calls, handled by code, never by the LLM.

While a code is pending, digits from the room's `sip_dtmf_received` events are collected
here; on the sixth digit (or `#`) they go straight to `OtpService.verify_code`, and only the
outcome is spoken (`session.say`) and so enters the conversation. `*` starts over. Digits
pressed when no code is pending are ignored. The digits are never logged, never put into
the chat context and never sent to the LLM (LiveKit's `GetDtmfTask` does both, which is why
it is not used here).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from livekit import rtc
from livekit.agents import AgentSession

from .otp_flow import check_code
from .state import CallState

log = logging.getLogger(__name__)

DIGITS = frozenset("0123456789")


class KeypadCodeEntry:
    """Collects one code at a time from keypad presses on a SIP call."""

    def __init__(self, session: AgentSession[CallState], state: CallState) -> None:
        self.session = session
        self.state = state
        self.length = state.services.otp.policy.code_length
        self._buffer: list[str] = []
        self._checking: asyncio.Task[None] | None = None

    def attach(self, room: rtc.Room) -> None:
        room.on("sip_dtmf_received", self.on_dtmf)

    def on_dtmf(self, event: rtc.SipDTMF) -> None:
        """Room callback (synchronous): buffer the digit; submit on the last one or `#`."""
        if self.state.otp_phone is None or self._is_checking():
            self._buffer.clear()
            return
        key = event.digit
        if key == "*":
            self._buffer.clear()
        elif key == "#":
            self._submit()
        elif key in DIGITS:
            self._buffer.append(key)
            if len(self._buffer) >= self.length:
                self._submit()

    def _is_checking(self) -> bool:
        return self._checking is not None and not self._checking.done()

    def _submit(self) -> None:
        code, self._buffer = "".join(self._buffer), []
        self._checking = asyncio.create_task(self._check(code))

    async def _check(self, code: str) -> None:
        try:
            outcome, sentence = await check_code(self.state, code)
        except LookupError:
            return  # the pending code was used or withdrawn meanwhile
        log.info(
            "keypad code checked",
            extra={"session_id": self.state.session_id, "status": outcome.status},
        )
        # The LLM learns the outcome (never the digits) as a note in its context; the caller
        # hears the outcome's own sentence.
        agent = self.session.current_agent
        chat_ctx = agent.chat_ctx.copy()
        chat_ctx.add_message(role="system", content=f"Keypad code entry result: {sentence}")
        await agent.update_chat_ctx(chat_ctx)
        with contextlib.suppress(RuntimeError):  # current speech may not be interruptible
            self.session.interrupt()
        await self.session.say(f"I got the code from your keypad. {outcome.message}")

    async def wait_idle(self) -> None:
        """Wait for a submitted code to be checked and answered (for tests and shutdown)."""
        if self._checking is not None:
            await self._checking
