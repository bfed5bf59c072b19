"""OtpToolset: the two code tools any LiveKit agent can include, with keypad entry.

`Agent(instructions=..., tools=[OtpToolset(otp)])` gives the model `request_otp` and
`verify_otp`. The toolset keeps this call's part of the rules, in code: which number a code
is pending for, at most `max_code_requests` requests per call, one request and one check at a
time (however many tool calls a model sends in one turn), and a guess is evaluated only if
the caller said those digits (`heard.caller_said_code`). The per-phone rules (attempts,
cooldown, lockout, decoys for numbers not on file) are `OtpService`'s.

What a proven phone is worth is the host's business: `on_verified(context, phone_e164)` turns
it into whatever the host grants and may return a sentence for the model. Tool outputs are the
outcomes' own sentences (phones masked, never a code), plus one next step where one is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from livekit import rtc
from livekit.agents import (
    AgentSession,
    RunContext,
    StopResponse,
    ToolError,
    function_tool,
    get_job_context,
    llm,
)

from verification import OtpService, mask_phone, parse_spoken_code
from verification.outcomes import UNAVAILABLE_MESSAGE, VerifyOutcome

from .heard import caller_said_code
from .keypad import KeypadBuffer

log = logging.getLogger(__name__)

OnVerified = Callable[[RunContext[Any] | None, str], Awaitable[str | None]]
"""The host's grant hook: `(context, phone_e164) -> sentence or None`; `context` is None for
keypad entry."""

MAX_CODE_REQUESTS_PER_CALL = 5
"""Code requests one call may make, whatever the numbers: each phone has its own limits in the
store, and this keeps one caller from having many people texted."""

# "caller", "the caller's number", "this phone", "my own number": words that mean the number
# the caller is calling from. Any other word (a name, "my wife's") is not taken for it.
CALLER_ID_WORDS = frozenset({"caller", "callers", "this", "my", "own", "same", "current"})
CALLER_ID_FILLER = frozenset({"the", "s", "number", "phone", "id", "line", "of", "cell"})
DEFAULT_STAFF_HINT = "Offer to connect the caller with a person."

SENDING_NOW = "A code is being sent right now. Wait for it before asking again."
CHECKING_NOW = "A code is being checked right now. Wait for its answer before checking again."
CALLER_NUMBER_UNKNOWN = "The caller's own number isn't known. Ask for the phone on file."
NO_MORE_CODES = "No more codes can be sent on this call."
ALREADY_VERIFIED = "The number {masked} is already verified in this call: no code is needed."
NO_CODE_PENDING = "No code is pending on this call. Offer to text one (request_otp)."
NOT_HEARD = (
    "Nothing was checked: ask the caller to read the code from their text message aloud, or "
    "type it on the keypad."
)
KEYPAD_PREFIX = "I got the code from your keypad."
KEYPAD_ARGUMENTS = json.dumps({"code": "(typed on the keypad)"})
# Outcomes after which the caller needs a person: no code can help them right now.
OFFER_STAFF_AFTER = frozenset({"locked", "rate_limited", "unavailable"})


class OtpToolset(llm.Toolset):
    """`request_otp` and `verify_otp` for one call, with keypad entry while a code is pending."""

    def __init__(
        self,
        otp_service: OtpService,
        session_id: str | None = None,
        caller_phone: str | None = None,
        on_verified: OnVerified | None = None,
        *,
        max_code_requests: int = MAX_CODE_REQUESTS_PER_CALL,
        staff_hint: str = DEFAULT_STAFF_HINT,
        id: str = "otp",
    ) -> None:
        if session_id is None:
            job = get_job_context(required=False)
            if job is None:
                raise ValueError(
                    "OtpToolset needs session_id= outside a LiveKit job: codes are bound to "
                    "the call that asked for them"
                )
            session_id = job.job.id
        super().__init__(id=id)
        self.otp = otp_service
        self.session_id = session_id
        #: the caller's own number (SIP caller ID, E.164), when known; hosts may set it late
        self.caller_phone = caller_phone
        self.on_verified = on_verified
        self.max_code_requests = max_code_requests
        self.staff_hint = staff_hint
        self.code_requests = 0
        self._verified_phone: str | None = None
        self._pending_phone: str | None = None
        self._requesting = False
        self._checking = False
        self._heard_since: float | None = None
        self._session: AgentSession[Any] | None = None
        self._room: rtc.Room | None = None
        self._keypad = KeypadBuffer(otp_service.policy.code_length)
        self._keypad_task: asyncio.Task[None] | None = None
        self._keypad_calls = 0

    @property
    def verified_phone(self) -> str | None:
        """The E.164 number proven by a code in this call, or None. Stays set for the call."""
        return self._verified_phone

    @property
    def pending_phone(self) -> str | None:
        """The E.164 number a code of this call is pending for, or None."""
        return self._pending_phone

    # -- tools ------------------------------------------------------------------------------

    @function_tool
    async def request_otp(self, context: RunContext[Any], patient_phone: str) -> str:
        """Text a verification code. Ask the caller first.

        Args:
            patient_phone: number given, or "caller" for the caller's own
        """
        phone = self._phone_meant(patient_phone)
        if self._requesting:
            return SENDING_NOW
        if self.code_requests >= self.max_code_requests:
            raise ToolError(f"{NO_MORE_CODES} {self.staff_hint}")
        _proceed_uninterrupted(context)
        # Reserved before the first await: parallel calls in one turn see it at once.
        self._requesting = True
        self.code_requests += 1
        self._session = context.session
        if self._heard_since is None:
            self._heard_since = time.time()
        try:
            outcome = await self.otp.request_code(
                phone, session_id=self.session_id, caller_phone=self.caller_phone
            )
        finally:
            self._requesting = False
        if outcome.code_pending and outcome.phone_e164 is not None:
            self._pending_phone = outcome.phone_e164
        log.info(
            "code requested",
            extra={
                "session_id": self.session_id,
                "status": outcome.status,
                "phone": outcome.masked_phone,
                "code_requests": self.code_requests,
            },
        )
        return self._with_next_step(outcome.status, outcome.message)

    @function_tool
    async def verify_otp(self, context: RunContext[Any], code: str) -> str:
        """Check the code the caller read back or typed.

        Args:
            code: the digits as said, e.g. "402991" or "four oh two nine nine one"
        """
        phone = self._pending_phone
        if phone is None and self._verified_phone is not None:
            return ALREADY_VERIFIED.format(masked=mask_phone(self._verified_phone))
        if phone is None:
            raise ToolError(NO_CODE_PENDING)
        if self._checking:
            return CHECKING_NOW
        guess = parse_spoken_code(code, self.otp.policy.code_length)
        if guess is not None and not caller_said_code(guess, self._caller_turns(context.session)):
            log.info("guess not said by the caller", extra={"session_id": self.session_id})
            raise ToolError(NOT_HEARD)
        self._checking = True  # reserved before the first await, like request_otp
        try:
            outcome = await self.otp.verify_code(
                phone, code, session_id=self.session_id, caller_phone=self.caller_phone
            )
            return (await self._settle(context, phone, outcome))[0]
        finally:
            self._checking = False

    # -- keypad -----------------------------------------------------------------------------

    def attach_keypad(self, room: rtc.Room) -> None:
        """Route this room's keypad digits to `verify_code` while a code is pending.

        Idempotent; `aclose` detaches. Digits never reach the model, the logs or the chat.
        """
        if self._room is room:
            return
        self.detach_keypad()
        room.on("sip_dtmf_received", self._on_dtmf)
        self._room = room

    def detach_keypad(self) -> None:
        if self._room is not None:
            self._room.off("sip_dtmf_received", self._on_dtmf)
            self._room = None
        self._keypad.clear()

    async def keypad_idle(self) -> None:
        """Wait until a submitted keypad code has been checked and answered."""
        if self._keypad_task is not None and not self._keypad_task.done():
            await asyncio.wait({self._keypad_task})

    async def setup(self) -> OtpToolset:
        """Called by the agent's activity on start: in a job, listen to its room's keypad."""
        await super().setup()
        job = get_job_context(required=False)
        if job is not None:
            self.attach_keypad(job.room)
        return self

    async def aclose(self) -> None:
        """Called when the agent's activity ends: stop listening; an answer still being said
        is dropped with the session (the check itself is one atomic store step)."""
        self.detach_keypad()
        task = self._keypad_task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await super().aclose()

    def _on_dtmf(self, event: rtc.SipDTMF) -> None:
        """Room callback (synchronous): buffer the digit; check on the last one or `#`."""
        if self._pending_phone is None or self._checking or self._session is None:
            self._keypad.clear()
            return
        code = self._keypad.press(event.digit)
        if code is None:
            return
        self._checking = True  # reserved now, so a spoken check cannot run beside it
        self._keypad_task = asyncio.create_task(self._check_keypad(self._pending_phone, code))

    async def _check_keypad(self, phone: str, code: str) -> None:
        try:
            outcome = await self.otp.verify_code(
                phone, code, session_id=self.session_id, caller_phone=self.caller_phone
            )
            for_model, for_caller = await self._settle(None, phone, outcome)
        except Exception:
            log.exception("keypad code entry failed", extra={"session_id": self.session_id})
            return
        finally:
            self._checking = False  # the check is done; saying its outcome needs no hold
        log.info(
            "keypad code checked", extra={"session_id": self.session_id, "status": outcome.status}
        )
        try:
            await self._tell_keypad_outcome(for_model, for_caller)
        except Exception:
            log.exception("keypad outcome not told", extra={"session_id": self.session_id})

    async def _tell_keypad_outcome(self, for_model: str, for_caller: str) -> None:
        """The model learns the outcome as the output of a `verify_otp` call made with the
        keypad (tool output: data, never a system instruction, never the digits); the caller
        hears the caller's sentence."""
        session = self._session
        if session is None:
            return
        self._keypad_calls += 1
        call_id = f"keypad_{self.session_id}_{self._keypad_calls}"
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

    # -- shared by spoken and keypad entry --------------------------------------------------

    async def _settle(
        self, context: RunContext[Any] | None, phone: str, outcome: VerifyOutcome
    ) -> tuple[str, str]:
        """Apply one checked guess to this call: returns (sentence for the model, sentence for
        the caller). A proven phone is kept, then offered to the host's hook; if the hook
        fails the caller hears that the system is unavailable, and nothing claims success."""
        if outcome.code_spent and self._pending_phone == phone:
            self._pending_phone = None
        if not outcome.verified:
            return self._with_next_step(outcome.status, outcome.message), outcome.message
        self._verified_phone = phone
        log.info(
            "phone verified by code",
            extra={"session_id": self.session_id, "phone": mask_phone(phone)},
        )
        if self.on_verified is None:
            return outcome.message, outcome.message
        try:
            granted = await self.on_verified(context, phone)
        except Exception:
            log.exception(
                "on_verified hook failed after a correct code",
                extra={"session_id": self.session_id, "phone": mask_phone(phone)},
            )
            return f"{UNAVAILABLE_MESSAGE} {self.staff_hint}", UNAVAILABLE_MESSAGE
        if granted:
            return f"{outcome.message} {granted}", outcome.message
        return outcome.message, outcome.message

    def _with_next_step(self, status: str, message: str) -> str:
        """The outcome's sentence, plus the nudge to offer a person where it calls for one."""
        return f"{message} {self.staff_hint}" if status in OFFER_STAFF_AFTER else message

    def _phone_meant(self, said: str) -> str:
        """The number to text: the caller's own for "caller" and words like it."""
        if not _means_caller_id(said):
            return said
        if not self.caller_phone:
            raise ToolError(CALLER_NUMBER_UNKNOWN)
        return self.caller_phone

    def _caller_turns(self, session: AgentSession[Any]) -> list[str]:
        """What the caller said since this call's first code request, oldest first."""
        since = self._heard_since or time.time()
        return [
            item.text_content or ""
            for item in session.history.items
            if item.type == "message" and item.role == "user" and item.created_at >= since
        ]


def _means_caller_id(said: str) -> bool:
    if any(c.isdigit() for c in said):
        return False
    words = set(re.findall(r"[a-z]+", said.lower())) - CALLER_ID_FILLER
    return bool(words) and words <= CALLER_ID_WORDS


def _proceed_uninterrupted(context: RunContext[Any]) -> None:
    """Before a side effect: stop if the caller already cut us off, else hold the floor
    until the action is done (LiveKit's pattern for tools that change the world)."""
    if context.speech_handle.interrupted:
        raise StopResponse()
    context.disallow_interruptions()
