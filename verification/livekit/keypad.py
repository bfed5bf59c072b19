"""Keypad (DTMF) entry of a code: from the phone caller only, never through the model.

* `KeypadBuffer`: the one rule for turning key presses into a guess. Digits are collected
  until the code's length, or until `#` (so a short entry is still answered, as malformed);
  `*` starts over.
* `Keypad`: one room's `sip_dtmf_received` events for one toolset. Any participant can
  publish DTMF into a room (`LocalParticipant.publish_dtmf`), so a digit counts only when its
  sender is the call's SIP caller: a SIP participant that is the session's linked
  participant (or the identity the host names, or the only SIP participant in the room).
  A digit from anyone else, or from a server (no participant), is ignored.
* `tell_keypad_outcome`: the model learns a keypad check's outcome as the output of a
  `verify_otp` call made with the keypad (tool output: data, never a system instruction,
  never the digits), and the caller hears the caller's sentence.

The digits live only in the buffer: never logged, never in the chat, never sent to the model
(LiveKit's `GetDtmfTask` puts them in the chat context, which is why it is not used for codes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession, llm

log = logging.getLogger(__name__)

DIGITS = frozenset("0123456789")
KEYPAD_PREFIX = "I got the code from your keypad."
KEYPAD_ARGUMENTS = json.dumps({"code": "(typed on the keypad)"})
SIP = rtc.ParticipantKind.PARTICIPANT_KIND_SIP


class KeypadBuffer:
    """Collects one code at a time from key presses."""

    def __init__(self, length: int) -> None:
        self.length = length
        self._digits: list[str] = []

    def press(self, key: str) -> str | None:
        """Take one key; return the entry once it is complete (full length, or `#`)."""
        if key == "*":
            self._digits.clear()
        elif key == "#":
            return self._take()
        elif key in DIGITS:
            self._digits.append(key)
            if len(self._digits) >= self.length:
                return self._take()
        return None

    def clear(self) -> None:
        self._digits.clear()

    def _take(self) -> str:
        entry, self._digits = "".join(self._digits), []
        return entry


def linked_identity(session: AgentSession[Any] | None) -> str | None:
    """The identity of the participant the session listens to, when it runs in a room."""
    if session is None:
        return None
    try:
        participant = session.room_io.linked_participant
    except RuntimeError:  # a session started without a room (console, tests)
        return None
    return participant.identity if participant is not None else None


def is_sip_caller(
    sender: rtc.RemoteParticipant | None, room: rtc.Room, caller_identity: str | None
) -> bool:
    """Is `sender` the call's SIP caller? With no identity known, only the room's one SIP
    participant is (a second one, such as staff joining a transfer, makes it unknown)."""
    if sender is None or sender.kind != SIP:
        return False
    if caller_identity is not None:
        return sender.identity == caller_identity
    sip = [p.identity for p in room.remote_participants.values() if p.kind == SIP]
    return sip == [sender.identity]


class Keypad:
    """A room's keypad for one toolset: a complete entry goes to `submit`.

    `accepting()` says whether a code is waiting for an entry (if not, presses are
    dropped). `submit(entry)` runs synchronously, in the callback that just asked
    `accepting()`, so the toolset can reserve its one check at a time before anything else
    runs; it returns the check to run. `caller_identity()` names the SIP caller when it is
    known.
    """

    def __init__(
        self,
        length: int,
        *,
        accepting: Callable[[], bool],
        submit: Callable[[str], Coroutine[Any, Any, None]],
        caller_identity: Callable[[], str | None],
    ) -> None:
        self._buffer = KeypadBuffer(length)
        self._accepting = accepting
        self._submit = submit
        self._caller_identity = caller_identity
        self._room: rtc.Room | None = None
        self._task: asyncio.Task[None] | None = None

    def attach(self, room: rtc.Room) -> None:
        """Listen to `room`'s keypad (idempotent; another room replaces the first)."""
        if self._room is room:
            return
        self.detach()
        room.on("sip_dtmf_received", self._on_dtmf)
        self._room = room

    def detach(self) -> None:
        if self._room is not None:
            self._room.off("sip_dtmf_received", self._on_dtmf)
            self._room = None
        self._buffer.clear()

    async def idle(self) -> None:
        """Wait until a submitted entry has been checked and answered."""
        if self._task is not None and not self._task.done():
            await asyncio.wait({self._task})

    async def aclose(self) -> None:
        """Stop listening; an answer still being said is dropped (the check itself is one
        atomic store step)."""
        self.detach()
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _on_dtmf(self, event: rtc.SipDTMF) -> None:
        """Room callback (synchronous): buffer the digit; check on the last one or `#`."""
        room = self._room
        if room is None or not is_sip_caller(event.participant, room, self._caller_identity()):
            log.warning("keypad digit ignored: not from the call's SIP caller")
            return
        if not self._accepting():
            self._buffer.clear()
            return
        entry = self._buffer.press(event.digit)
        if entry is not None:
            self._task = asyncio.create_task(self._submit(entry))


async def tell_keypad_outcome(
    session: AgentSession[Any], call_id: str, for_model: str, for_caller: str
) -> None:
    """Put the outcome in the current agent's context as a keypad `verify_otp` call and its
    output, then say the caller's sentence (cutting off what the agent was saying)."""
    agent = session.current_agent
    chat_ctx = agent.chat_ctx.copy()
    chat_ctx.insert(
        [
            llm.FunctionCall(call_id=call_id, name="verify_otp", arguments=KEYPAD_ARGUMENTS),
            llm.FunctionCallOutput(
                call_id=call_id, name="verify_otp", output=for_model, is_error=False
            ),
        ]
    )
    await agent.update_chat_ctx(chat_ctx)
    with contextlib.suppress(RuntimeError):  # the current speech may not be interruptible
        session.interrupt()
    await session.say(f"{KEYPAD_PREFIX} {for_caller}")
