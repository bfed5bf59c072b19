"""OtpToolset: the two code tools any LiveKit agent can include, with every rule inside.

`Agent(instructions=..., tools=[OtpToolset(otp)])` gives the model `request_otp` and
`verify_otp`. The toolset keeps this call's part of the rules, in code, so a host gets them
without subclassing:

* a code goes only to a number the caller said in this call, the caller's own number
  ("caller"), or the number the host vouches for (`known_phone`, "known");
* at most `max_code_requests` requests per call, one request and one check at a time
  (however many tool calls a model sends in one turn);
* a guess is checked only if the caller said it since the code was requested, and a code
  said once is checked once (`code_places` gives the places it was said; used ones are kept);
* keypad digits count only from the call's SIP caller (`keypad.Keypad`);
* `verified_phone` is set only after the host's `on_verified` hook has succeeded; if the
  hook fails, nothing is proven and the caller can ask for a new code.

The per-phone rules (attempts, cooldown, lockout, decoys for numbers not on file) are
`OtpService`'s. What a proven phone is worth is the host's business: `on_verified(context,
phone_e164)` turns it into whatever the host grants and may return a sentence for the model.
Tool outputs are the outcomes' own sentences (phones masked, never a code), plus one next
step where one is needed; `caller_sentence(call_id)` gives the caller's version of each.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession, RunContext, function_tool, get_job_context, llm

from verification import OtpService, mask_phone, parse_spoken_code
from verification.languages import DEFAULT_LANGUAGE, language_or_default
from verification.messages import Channel
from verification.outcomes import VerifyOutcome
from verification.phone import parsed_phone
from verification.said import Said, code_places, first_unused

from . import replies
from .keypad import Keypad, linked_identity, tell_keypad_outcome
from .numbers import number_meant
from .replies import Refusal, Reply
from .schemas import with_prebuilt_schemas
from .turns import caller_turns, proceed_uninterrupted

log = logging.getLogger(__name__)

OnVerified = Callable[[RunContext[Any] | None, str], Awaitable[str | None]]
"""The host's grant hook: `(context, phone_e164) -> sentence or None`; `context` is None for
keypad entry. If it raises, the phone is not proven and the caller is told so."""

MAX_CODE_REQUESTS_PER_CALL = 5
"""Code requests one call may make, whatever the numbers: each phone has its own limits in the
store, and this keeps one caller from having many people texted."""

# Outcomes after which the caller needs a person: no code can help them right now.
OFFER_STAFF_AFTER = frozenset({"locked", "rate_limited", "unavailable"})
CALLER_SENTENCES_KEPT = 32


class OtpToolset(llm.Toolset):
    """`request_otp` and `verify_otp` for one call, with keypad entry while a code is pending."""

    def __init__(
        self,
        otp_service: OtpService,
        session_id: str | None = None,
        caller_phone: str | None = None,
        on_verified: OnVerified | None = None,
        *,
        known_phone: str | None = None,
        caller_identity: str | None = None,
        language: str = DEFAULT_LANGUAGE,
        max_code_requests: int = MAX_CODE_REQUESTS_PER_CALL,
        staff_hint: str = replies.DEFAULT_STAFF_HINT,
        strict_schemas: bool = True,
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
        self._prebuilt = with_prebuilt_schemas(super().tools, strict=strict_schemas)
        self.otp = otp_service
        self.session_id = session_id
        self.caller_phone = caller_phone
        self.known_phone = known_phone
        #: the SIP caller's participant identity, when the host knows it (else the
        #: session's linked participant); only its keypad digits count
        self.caller_identity = caller_identity
        self.language = language
        self.on_verified = on_verified
        self.max_code_requests = max_code_requests
        self.staff_hint = staff_hint
        self.code_requests = 0
        self._verified_phone: str | None = None
        self._pending_phone: str | None = None
        self._requesting = False
        self._checking = False
        self._heard_since: float | None = None
        self._used: set[Said] = set()
        self._session: AgentSession[Any] | None = None
        self._answers: OrderedDict[str, Reply] = OrderedDict()
        self._keypad_calls = 0
        self._keypad = Keypad(
            otp_service.policy.code_length,
            accepting=self._keypad_accepting,
            submit=self._submit_keypad,
            caller_identity=lambda: self.caller_identity or linked_identity(self._session),
        )

    @property
    def tools(self) -> Sequence[llm.Tool | llm.Toolset]:
        """`request_otp` and `verify_otp`, with their schemas built once (`schemas.py`)."""
        return self._prebuilt

    @property
    def caller_phone(self) -> str | None:
        """The caller's own number (SIP caller ID, E.164) when known; hosts may set it late.
        Parsed once, here, with the service's region; a number that can't be one is None."""
        return self._caller_phone

    @caller_phone.setter
    def caller_phone(self, value: str | None) -> None:
        self._caller_phone = parsed_phone(value, self.otp.default_region)

    @property
    def language(self) -> str:
        """The call's language: the text (or the automated call) with the code goes out in
        it. Hosts set it when the caller switches language ("es", "es-US"); one without a
        folder in `verification/languages/` is English."""
        return self._language

    @language.setter
    def language(self, value: str) -> None:
        self._language = language_or_default(value)

    @property
    def known_phone(self) -> str | None:
        """A number the host vouches for (collected by `GetPhoneNumberTask`, or its own
        record): the model may text it as "known" without the caller repeating it."""
        return self._known_phone

    @known_phone.setter
    def known_phone(self, value: str | None) -> None:
        self._known_phone = parsed_phone(value, self.otp.default_region)

    @property
    def verified_phone(self) -> str | None:
        """The E.164 number proven by a code in this call (and granted by `on_verified`),
        or None. Stays set for the call."""
        return self._verified_phone

    @property
    def pending_phone(self) -> str | None:
        """The E.164 number a code of this call is pending for, or None."""
        return self._pending_phone

    def caller_sentence(self, call_id: str) -> str | None:
        """What the caller may hear for this call's tool call `call_id` (the speech hook's
        fallback when the model writes a tool call as text instead of answering)."""
        answer = self._answers.get(call_id)
        return answer.caller if answer is not None else None

    def did_what_was_asked(self, call_id: str) -> bool | None:
        """Whether tool call `call_id` did what the model asked (a code sent, a phone
        verified), or None for a call this toolset did not answer. Sent codes and decoys
        alike are True (no one learns who is a patient); every other outcome is False."""
        answer = self._answers.get(call_id)
        return answer.done if answer is not None else None

    # -- tools ------------------------------------------------------------------------------

    @function_tool
    async def request_otp(
        self, context: RunContext[Any], patient_phone: str, channel: Channel = "sms"
    ) -> str:
        """Send a verification code, by text or by call. Ask first.

        Args:
            patient_phone: number as said, or "caller"
        """
        return await self._answer(context, self._request(context, patient_phone, channel))

    @function_tool
    async def verify_otp(self, context: RunContext[Any], code: str) -> str:
        """Check the code read back.

        Args:
            code: as said
        """
        return await self._answer(context, self._verify(context, code))

    # -- keypad -----------------------------------------------------------------------------

    def attach_keypad(self, room: rtc.Room) -> None:
        """Route this room's keypad digits from the SIP caller to `verify_code` while a code
        is pending. Idempotent; `aclose` detaches. Digits never reach the model, the logs
        or the chat."""
        self._keypad.attach(room)

    def detach_keypad(self) -> None:
        self._keypad.detach()

    async def keypad_idle(self) -> None:
        """Wait until a submitted keypad code has been checked and answered."""
        await self._keypad.idle()

    async def setup(self) -> OtpToolset:
        """Called by the agent's activity on start: in a job, listen to its room's keypad."""
        await super().setup()
        job = get_job_context(required=False)
        if job is not None:
            self.attach_keypad(job.room)
        return self

    async def aclose(self) -> None:
        """Called when the agent's activity ends: stop listening to the keypad."""
        await self._keypad.aclose()
        await super().aclose()

    # -- requests ---------------------------------------------------------------------------

    async def _request(
        self, context: RunContext[Any], patient_phone: str, channel: Channel
    ) -> Reply:
        try:
            phone = number_meant(
                patient_phone,
                caller_phone=self.caller_phone,
                known_phone=self.known_phone,
                caller_turns=caller_turns(context.session),
                region=self.otp.default_region,
            )
        except Refusal:
            log.info("number not meant or not said", extra={"session_id": self.session_id})
            raise
        if self._requesting:
            return replies.SENDING_NOW
        if self.code_requests >= self.max_code_requests:
            no_more = replies.NO_MORE_CODES
            raise Refusal(Reply(f"{no_more.model} {self.staff_hint}", no_more.caller))
        proceed_uninterrupted(context)
        # Reserved before the first await: parallel calls in one turn see it at once.
        self._requesting = True
        self.code_requests += 1
        self._session = context.session
        if self._heard_since is None:
            self._heard_since = time.time()
        try:
            outcome = await self.otp.request_code(
                phone,
                session_id=self.session_id,
                caller_phone=self.caller_phone,
                channel=channel,
                language=self.language,
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
                "channel": channel,
                "language": self.language,
                "phone": outcome.masked_phone,
                "code_requests": self.code_requests,
            },
        )
        model = self._with_next_step(outcome.status, outcome.message)
        return Reply(model, outcome.message, done=outcome.sent)

    # -- checks -----------------------------------------------------------------------------

    async def _verify(self, context: RunContext[Any], code: str) -> Reply:
        phone = self._pending_phone
        if phone is None and self._verified_phone is not None:
            verified = replies.ALREADY_VERIFIED
            masked = verified.model.format(masked=mask_phone(self._verified_phone))
            return Reply(masked, verified.caller, done=True)
        if phone is None:
            raise Refusal(replies.NO_CODE_PENDING)
        if self._checking:
            return replies.CHECKING_NOW
        guess = parse_spoken_code(code, self.otp.policy.code_length)
        if guess is not None:
            turns = caller_turns(context.session, since=self._heard_since)
            places = code_places(guess, turns)
            place = first_unused(places, self._used)
            if place is None:
                log.info("guess not said by the caller", extra={"session_id": self.session_id})
                raise Refusal(replies.ALREADY_CHECKED if places else replies.NOT_HEARD)
            self._used.add(place)
        self._checking = True  # reserved before the first await, like request_otp
        try:
            outcome = await self.otp.verify_code(
                phone, guess or code, session_id=self.session_id, caller_phone=self.caller_phone
            )
            return await self._settle(context, phone, outcome)
        finally:
            self._checking = False

    def _keypad_accepting(self) -> bool:
        return self._pending_phone is not None and not self._checking

    def _submit_keypad(self, entry: str) -> Coroutine[Any, Any, None]:
        """A complete keypad entry: reserve the one check at a time now (synchronously, so
        a spoken check cannot run beside it), and return the check to run. The keypad asked
        `_keypad_accepting` in the same callback, and a code is only pending once a request
        has kept its session."""
        phone = self._pending_phone
        assert phone is not None and self._session is not None
        self._checking = True
        return self._check_keypad(self._session, phone, entry)

    async def _check_keypad(self, session: AgentSession[Any], phone: str, entry: str) -> None:
        try:
            outcome = await self.otp.verify_code(
                phone, entry, session_id=self.session_id, caller_phone=self.caller_phone
            )
            reply = await self._settle(None, phone, outcome)
        except Exception:
            log.exception("keypad code entry failed", extra={"session_id": self.session_id})
            return
        finally:
            self._checking = False  # the check is done; saying its outcome needs no hold
        log.info(
            "keypad code checked", extra={"session_id": self.session_id, "status": outcome.status}
        )
        self._keypad_calls += 1
        call_id = f"keypad_{self.session_id}_{self._keypad_calls}"
        self._remember(call_id, reply)
        try:
            await tell_keypad_outcome(session, call_id, reply.model, reply.caller)
        except Exception:
            log.exception("keypad outcome not told", extra={"session_id": self.session_id})

    async def _settle(
        self, context: RunContext[Any] | None, phone: str, outcome: VerifyOutcome
    ) -> Reply:
        """Apply one checked guess to this call. A right code is offered to the host's hook
        first; only once the hook has succeeded is the phone proven. If the hook fails, the
        caller hears that the system is unavailable, nothing claims success, and a new code
        can be asked for (this one is spent)."""
        if outcome.code_spent and self._pending_phone == phone:
            self._pending_phone = None
        if not outcome.verified:
            return Reply(self._with_next_step(outcome.status, outcome.message), outcome.message)
        granted: str | None = None
        if self.on_verified is not None:
            try:
                granted = await self.on_verified(context, phone)
            except Exception:
                log.exception(
                    "on_verified hook failed after a correct code: nothing proven",
                    extra={"session_id": self.session_id, "phone": mask_phone(phone)},
                )
                failed = replies.GRANT_FAILED
                return Reply(f"{failed.model} {self.staff_hint}", failed.caller)
        self._verified_phone = phone
        log.info(
            "phone verified by code",
            extra={"session_id": self.session_id, "phone": mask_phone(phone)},
        )
        model = f"{outcome.message} {granted}" if granted else outcome.message
        return Reply(model, outcome.message, done=True)

    # -- answers ----------------------------------------------------------------------------

    def _with_next_step(self, status: str, message: str) -> str:
        """The outcome's sentence, plus the nudge to offer a person where it calls for one."""
        return f"{message} {self.staff_hint}" if status in OFFER_STAFF_AFTER else message

    async def _answer(self, context: RunContext[Any], work: Awaitable[Reply]) -> str:
        """Run one tool call; keep the caller's sentence of its answer (or refusal)."""
        call_id = context.function_call.call_id
        try:
            reply = await work
        except Refusal as refusal:
            self._remember(call_id, Reply(str(refusal), refusal.caller))
            raise
        self._remember(call_id, reply)
        return reply.model

    def _remember(self, call_id: str, reply: Reply) -> None:
        self._answers[call_id] = reply
        while len(self._answers) > CALLER_SENTENCES_KEPT:
            self._answers.popitem(last=False)
