"""OtpService: issue a code to a number on file, and check a caller's guess.

Verification is kept apart from delivery (django-otp's lesson): the store decides, atomically,
whether a code may be issued and whether a guess is right; the sender only carries text.
The service adds what neither can know: who is on file (codes go only there, everyone else
gets a decoy that behaves identically), the digest (codes are never stored), and the audit
trail.

What the caller hears never depends on the text message (rule 13): `request_code` answers as
soon as the challenge is stored, the same way for a number on file and one that is not, and
the SMS goes out in a background task the service owns (`drain()` waits for them). A send
that fails is audited and metered, and it keeps the cooldown and the send it used: giving
them back would make the limits answer differently for patients than for decoys.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from functools import lru_cache

from . import outcomes
from .audit import audit
from .codes import CodeDigester, caller_reference, generate_code, phone_reference
from .directory import PhoneDirectory
from .metrics import count_delivery, count_request, count_verification
from .outcomes import RequestOutcome, VerifyOutcome
from .phone import MAX_PHONE_INPUT_CHARS, mask_phone, normalize_phone
from .policy import KnowledgePolicy, OtpPolicy
from .settings import VerificationSettings
from .sms.base import SmsDeliveryError, SmsSender
from .spoken import parse_spoken_code
from .stores.base import OtpStore, StoreUnavailable
from .throttle import IdentityThrottle, KeyedCounters

log = logging.getLogger(__name__)

MAX_SESSION_ID_CHARS = 256
# Numbers and callers seen recently, so a guess costs no phone parsing or hashing: a call makes
# a handful of requests and guesses about one or two numbers.
_CACHE_SIZE = 4096


class OtpService:
    """Issues and checks SMS one-time codes for the calls of one clinic."""

    def __init__(
        self,
        store: OtpStore,
        sender: SmsSender,
        directory: PhoneDirectory,
        policy: OtpPolicy = OtpPolicy(),  # noqa: B008 - frozen, so one shared default is safe
        *,
        pepper: bytes,
        clinic_name: str = "the clinic",
        default_region: str = "US",
        knowledge_policy: KnowledgePolicy = KnowledgePolicy(),  # noqa: B008 - frozen
    ) -> None:
        if len(pepper) < 16:
            raise ValueError("pepper must be at least 16 bytes")
        self.store = store
        self.sender = sender
        self.directory = directory
        self.policy = policy
        self.clinic_name = clinic_name
        self.default_region = default_region
        self.knowledge_policy = knowledge_policy
        self._pepper = pepper
        self._digest = CodeDigester(pepper)
        self._sends: set[asyncio.Task[None]] = set()
        # per-instance caches (the pepper is per instance): e164 -> (masked, phone_ref)
        self._phone_tags = lru_cache(maxsize=_CACHE_SIZE)(self._tags)
        self._caller_tags = lru_cache(maxsize=_CACHE_SIZE)(self._caller_tag)

    @classmethod
    def from_settings(cls, directory: PhoneDirectory, settings: VerificationSettings) -> OtpService:
        """Build the service `settings` describe (see `VerificationSettings`): Redis when
        `REDIS_URL` is set, else the SQLite file; the configured SMS providers, else the
        console stand-in. Logs where it keeps its files (`VerificationSettings.files`)."""
        from .config import service_parts

        return cls(directory=directory, **service_parts(settings))

    @classmethod
    def from_env(
        cls, directory: PhoneDirectory, env: Mapping[str, str] | None = None
    ) -> OtpService:
        """`from_settings(directory, VerificationSettings.from_env(env))`: the environment
        (`os.environ` when `env` is None) parsed and built in one step. Raises
        `ConfigurationError` where production would be unsafe (no `OTP_PEPPER`, console SMS)."""
        return cls.from_settings(directory, VerificationSettings.from_env(env))

    @property
    def counters(self) -> KeyedCounters:
        """Counters on this service's store, named with its pepper (`KeyedCounters`): for a
        host's own quotas (the clinic's bookings per patient), never holding an id in clear."""
        return KeyedCounters(self.store, pepper=self._pepper)

    def identity_throttle(self, policy: KnowledgePolicy | None = None) -> IdentityThrottle:
        """The knowledge-based throttle on this service's store, keyed with its pepper (so
        its counters hold neither a caller's number nor a record id in a form anyone could
        reverse), with `policy` or the one the environment gave (`KBA_*`)."""
        return IdentityThrottle(
            self.store,
            policy or self.knowledge_policy,
            pepper=self._pepper,
            default_region=self.default_region,
        )

    def sms_body(self, code: str) -> str:
        """The text message: clinic, code, lifetime, a warning. No name, no appointment (no
        PHI). Short enough for one 160-character SMS segment with a clinic name of ~60."""
        return (
            f"{self.clinic_name}: your verification code is {code}. It expires in "
            f"{outcomes.minutes(self.policy.ttl_seconds)}. Don't share it with anyone."
        )

    async def request_code(
        self, phone: str, *, session_id: str, caller_phone: str | None = None
    ) -> RequestOutcome:
        """Store a fresh challenge for `phone` in this call and answer "sent" at once; text
        the code in the background only if the number is on file.

        `caller_phone` is the caller's own number (SIP caller id) when known: send limits and
        lockouts are kept per caller under per-phone ceilings, so one caller cannot use up a
        patient's allowance (see `OtpPolicy`).
        """
        outcome = await self._request_code(phone, session_id, caller_phone)
        count_request(outcome.status)
        return outcome

    async def verify_code(
        self, phone: str, code: str, *, session_id: str, caller_phone: str | None = None
    ) -> VerifyOutcome:
        """Check one guess (digits or spoken words) against this call's live code for `phone`.

        Wrong guesses count against `caller_phone` (the caller's own number, when known) and
        against the phone's daily ceiling, so a stranger's guesses lock the stranger first.
        """
        outcome = await self._verify_code(phone, code, session_id, caller_phone)
        count_verification(outcome.status)
        return outcome

    async def drain(self) -> None:
        """Wait for every background send started so far (tests, shutdown)."""
        while self._sends:
            await asyncio.gather(*list(self._sends), return_exceptions=True)

    async def aclose(self) -> None:
        """Finish the sends in flight, then close the store and the sender."""
        await self.drain()
        await self.store.aclose()
        await self.sender.aclose()

    # -- requests ---------------------------------------------------------------------------

    async def _request_code(
        self, phone: str, session_id: str, caller_phone: str | None
    ) -> RequestOutcome:
        _check_session_id(session_id)
        e164 = self._normalize(phone)
        if e164 is None:
            audit("otp.invalid_phone", phone=None, phone_ref=None, session_id=session_id)
            return outcomes.invalid_phone()
        masked, ref = self._phone_tags(e164)
        caller = self._caller_refs(caller_phone)
        audit(
            "otp.requested", phone=masked, phone_ref=ref, session_id=session_id, caller_ref=caller
        )

        try:
            on_file = await self.directory.is_on_file(e164)
        except Exception:
            log.exception(
                "phone directory failed", extra={"phone": masked, "session_id": session_id}
            )
            audit("otp.unavailable", phone=masked, phone_ref=ref, session_id=session_id)
            return outcomes.request_unavailable(masked, e164)

        code = generate_code(self.policy.code_length)
        digest = self._digest(e164, session_id, code)
        try:
            issued = await self.store.issue(e164, session_id, digest, self.policy, caller=caller)
        except StoreUnavailable:
            audit("otp.unavailable", phone=masked, phone_ref=ref, session_id=session_id)
            return outcomes.request_unavailable(masked, e164)

        if issued.status != "issued":
            event = "otp.locked" if issued.status == "locked" else "otp.rate_limited"
            audit(
                event,
                phone=masked,
                phone_ref=ref,
                session_id=session_id,
                reason=issued.status,
                caller_ref=caller,
            )
            return outcomes.request_refused(
                issued.status,
                masked,
                e164,
                issued.retry_after_seconds or 1,
                code_pending=issued.own_code_live,
            )

        if on_file:
            self._send_in_background(e164, code, masked, ref, session_id)
        else:
            # Rule 6: a decoy challenge now stands for this number; nothing is sent, and the
            # caller hears exactly what a patient hears.
            audit("otp.not_on_file", phone=masked, phone_ref=ref, session_id=session_id)
        return outcomes.sent(masked, e164, self.policy.code_length, self.policy.ttl_seconds)

    def _send_in_background(
        self, e164: str, code: str, masked: str, ref: str, session_id: str
    ) -> None:
        """Start the SMS as a task the service keeps until it ends (never lost, never
        awaited by the caller's turn)."""
        task = asyncio.get_running_loop().create_task(
            self._deliver(e164, self.sms_body(code), masked, ref, session_id),
            name=f"otp-sms-{ref}",
        )
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _deliver(self, e164: str, body: str, masked: str, ref: str, session_id: str) -> None:
        """Send one text; every outcome ends in the audit log and the metrics, none raises.

        A failure keeps the cooldown and the send it used (see the module docstring)."""
        try:
            receipt = await self.sender.send(e164, body)
        except SmsDeliveryError as exc:
            count_delivery("failed")
            audit(
                "otp.delivery_failed",
                phone=masked,
                phone_ref=ref,
                session_id=session_id,
                provider=exc.provider,
                error_code=exc.code,
                retryable=exc.retryable,
            )
            return
        except Exception as exc:  # a sender that broke its protocol must not go unnoticed
            count_delivery("failed")
            log.exception(
                "sms sender raised outside its protocol",
                extra={"phone": masked, "session_id": session_id},
            )
            audit(
                "otp.delivery_failed",
                phone=masked,
                phone_ref=ref,
                session_id=session_id,
                provider=str(getattr(self.sender, "provider", type(self.sender).__name__)),
                error_code=type(exc).__name__,
                retryable=True,
            )
            return
        count_delivery("sent")
        audit(
            "otp.sent",
            phone=masked,
            phone_ref=ref,
            session_id=session_id,
            provider=receipt.provider,
            message_id=receipt.message_id,
        )

    # -- guesses ----------------------------------------------------------------------------

    async def _verify_code(
        self, phone: str, code: str, session_id: str, caller_phone: str | None
    ) -> VerifyOutcome:
        _check_session_id(session_id)
        guess = parse_spoken_code(code, self.policy.code_length) if isinstance(code, str) else None
        e164 = self._normalize(phone)
        if guess is None or e164 is None:
            audit("otp.malformed", phone=None, phone_ref=None, session_id=session_id)
            return outcomes.malformed(self.policy.code_length)
        masked, ref = self._phone_tags(e164)

        digest = self._digest(e164, session_id, guess)
        caller = self._caller_refs(caller_phone)
        try:
            result = await self.store.check(e164, session_id, digest, self.policy, caller=caller)
        except StoreUnavailable:
            audit("otp.unavailable", phone=masked, phone_ref=ref, session_id=session_id)
            return outcomes.verify_unavailable()

        audit(
            "otp." + result.status,
            phone=masked,
            phone_ref=ref,
            session_id=session_id,
            attempts_left=result.attempts_left,
            caller_ref=caller,
        )
        status = result.status
        if status == "verified":
            return outcomes.VERIFIED
        if status == "wrong_code":
            return outcomes.wrong_code(result.attempts_left or 0)
        if status == "expired":
            return outcomes.EXPIRED
        if status == "locked":
            return outcomes.verify_locked(result.retry_after_seconds)
        return outcomes.NO_CODE

    # -- per-number work, done once per number ------------------------------------------------

    def _normalize(self, phone: str) -> str | None:
        if not isinstance(phone, str) or len(phone) > MAX_PHONE_INPUT_CHARS:
            return None  # refused before the cache, so no huge string is ever kept
        return _normalized(phone, self.default_region)

    def _tags(self, e164: str) -> tuple[str, str]:
        return mask_phone(e164), phone_reference(self._pepper, e164)

    def _caller_refs(self, caller_phone: str | None) -> str:
        """The key a caller's limits are kept under: a keyed hash of their own number (never
        the number itself), or "anonymous" for a withheld or unparseable caller id."""
        e164 = self._normalize(caller_phone) if caller_phone else None
        return self._caller_tags(e164)

    def _caller_tag(self, e164: str | None) -> str:
        return caller_reference(self._pepper, e164)


@lru_cache(maxsize=_CACHE_SIZE)
def _normalized(phone: str, region: str) -> str | None:
    """`normalize_phone`, cached: parsing a number costs more than the store round trip."""
    try:
        return normalize_phone(phone, region)
    except ValueError:
        return None


def _check_session_id(session_id: str) -> None:
    """Refuse, up front, a session id no store could hold (empty, huge, not valid Unicode)."""
    if not isinstance(session_id, str) or not 0 < len(session_id) <= MAX_SESSION_ID_CHARS:
        raise ValueError("session_id must be a non-empty string of at most 256 characters")
    if not session_id.isascii():
        try:
            session_id.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("session_id must be valid Unicode text") from None
