"""OtpService: issue a code to a number on file, and check a caller's guess.

Verification is kept apart from delivery (django-otp's lesson): the store decides, atomically,
whether a code may be issued and whether a guess is right; the senders only carry words. The
service adds what neither can know: who is on file (codes go only there, everyone else gets
a decoy that behaves identically), where a code may go (`allowed_countries`) and how many
may go out at all (`daily_send_budget`), whose limits a caller feeds (caller ID is a hint),
the digest (codes are never stored), the text in the call's language, and the audit trail.

What the caller hears never depends on delivery (rule 13): `request_code` answers as soon as
the challenge is stored, the same way for a number on file and one that is not, and the text
or call goes out in the background (`sending.py`; `drain()` waits for it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache

import phonenumbers

from . import outcomes
from .audit import audit
from .budget import SendBudget
from .codes import CodeDigester, caller_reference, generate_code, phone_reference
from .directory import PhoneDirectory
from .languages import language_or_default
from .messages import CHANNELS, Channel, code_message
from .metrics import count_ceiling, count_code_verified, count_request, count_verification
from .outcomes import RequestOutcome, VerifyOutcome
from .phone import mask_phone, parsed_phone
from .policy import KnowledgePolicy, OtpPolicy
from .sending import Deliveries, Delivery
from .settings import VerificationSettings
from .sms.base import SmsSender, VoiceSender, close_sender
from .spoken import parse_spoken_code
from .stores.base import CALLER_OWN, CALLER_WITHHELD, OtpStore, StoreUnavailable
from .throttle import IdentityThrottle, KeyedCounters

log = logging.getLogger(__name__)

MAX_SESSION_ID_CHARS = 256
# Numbers and callers seen recently, so a guess costs no phone parsing or hashing: a call makes
# a handful of requests and guesses about one or two numbers.
_CACHE_SIZE = 4096


class OtpService:
    """Issues and checks one-time codes (by text or automated call) for the calls of one host."""

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
        voice_sender: VoiceSender | None = None,
    ) -> None:
        """`clinic_name` is the host's name in the text and the call (any host, not only a
        clinic: `OTP_BRAND_NAME`). `voice_sender` places the automated calls of
        `channel="call"`; without one, a call is refused the same way for every caller."""
        if len(pepper) < 16:
            raise ValueError("pepper must be at least 16 bytes")
        self.store = store
        self.directory = directory
        self.policy = policy
        self.clinic_name = clinic_name
        self.default_region = default_region
        self.knowledge_policy = knowledge_policy
        self._pepper = pepper
        self._digest = CodeDigester(pepper)
        self._deliveries = Deliveries(sender, voice_sender)
        # per-instance caches (the pepper is per instance): e164 -> (masked, ref, ...)
        self._phone_tags = lru_cache(maxsize=_CACHE_SIZE)(self._tags)
        self._caller_tags = lru_cache(maxsize=_CACHE_SIZE)(self._caller_tag)

    @classmethod
    def from_settings(cls, directory: PhoneDirectory, settings: VerificationSettings) -> OtpService:
        """Build the service `settings` describe (see `VerificationSettings`): Redis when
        `REDIS_URL` is set, else the SQLite file; the configured SMS providers, else the
        console stand-in; calls when `VOICE_CALLS` offers them. Logs where it keeps its
        files (`VerificationSettings.files`)."""
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
    def sender(self) -> SmsSender:
        return self._deliveries.sender

    @property
    def voice_sender(self) -> VoiceSender | None:
        return self._deliveries.voice_sender

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

    def sms_body(self, code: str, language: str = "en") -> str:
        """The text message: host, code, lifetime, a warning; no name, no appointment (no
        PHI). In English, one 160-character segment with a host name of ~60 characters."""
        return self.code_message(code, "sms", language)

    def code_message(self, code: str, channel: Channel = "sms", language: str = "en") -> str:
        """What the text (`"sms"`) or the automated call (`"call"`) says, in `language`."""
        return code_message(
            channel,
            language_or_default(language),
            brand=self.clinic_name,
            code=code,
            ttl_seconds=self.policy.ttl_seconds,
        )

    async def request_code(
        self,
        phone: str,
        *,
        session_id: str,
        caller_phone: str | None = None,
        channel: Channel = "sms",
        language: str = "en",
    ) -> RequestOutcome:
        """Store a fresh challenge for `phone` in this call and answer "sent" at once; text
        (or, with `channel="call"`, call) the code in the background only if the number is
        on file and in an allowed country. `language` is the call's ("en", "es", ...): the
        text or call is in it.

        `caller_phone` is the caller ID, when known. It is a hint, not a key: another
        number's calls have limits of their own under the phone's ceilings; the phone's own
        or a withheld caller ID counts toward the ceilings only (see `OtpPolicy`). Raises
        `ValueError` for a session id no store could hold or a channel that is not one.
        """
        if channel not in CHANNELS:
            raise ValueError("channel must be 'sms' or 'call'")
        outcome = await self._request_code(
            phone, session_id, caller_phone, channel, language_or_default(language)
        )
        count_request(outcome.status)
        return outcome

    async def verify_code(
        self, phone: str, code: str, *, session_id: str, caller_phone: str | None = None
    ) -> VerifyOutcome:
        """Check one guess (digits or spoken words) against this call's live code for `phone`.

        Wrong guesses count against the phone's ceiling and, when `caller_phone` is another
        number, against that caller's own count, so a stranger's guesses lock the stranger
        first."""
        outcome = await self._verify_code(phone, code, session_id, caller_phone)
        count_verification(outcome.status)
        return outcome

    async def drain(self) -> None:
        """Wait for every background send started so far (tests, shutdown)."""
        await self._deliveries.drain()

    async def aclose(self) -> None:
        """Finish the sends in flight, then close the store and the senders (a sender with
        only `send` has nothing to close: `close_sender`)."""
        await self.drain()
        await self.store.aclose()
        await close_sender(self.sender)
        if self.voice_sender is not None:
            await close_sender(self.voice_sender)

    # -- requests ---------------------------------------------------------------------------

    async def _request_code(
        self, phone: str, session_id: str, caller_phone: str | None, channel: Channel, language: str
    ) -> RequestOutcome:
        _check_session_id(session_id)
        e164 = parsed_phone(phone, self.default_region)
        if e164 is None:
            audit("otp.invalid_phone", phone=None, phone_ref=None, session_id=session_id)
            return outcomes.invalid_phone()
        masked, ref, region, calling_code = self._phone_tags(e164)
        where = {"phone": masked, "phone_ref": ref, "session_id": session_id}
        if channel == "call" and self.voice_sender is None:
            # the same for every caller, before anything is looked up or counted
            audit("otp.unavailable", **where, reason="no_voice_sender")
            return outcomes.request_unavailable(
                masked, e164, "call", message=outcomes.CALLS_UNAVAILABLE_MESSAGE
            )
        caller = self._caller_scope(caller_phone, e164)
        audit("otp.requested", **where, caller_ref=caller, channel=channel)

        try:
            on_file = await self.directory.is_on_file(e164)
        except Exception:
            log.exception(
                "phone directory failed", extra={"phone": masked, "session_id": session_id}
            )
            audit("otp.unavailable", **where)
            return outcomes.request_unavailable(masked, e164, channel)

        budget = SendBudget(self.store, self.policy.daily_send_budget)
        try:
            spent = await budget.charge()
        except StoreUnavailable:
            audit("otp.unavailable", **where)
            return outcomes.request_unavailable(masked, e164, channel)
        if spent:
            budget.spent(where)
            return outcomes.request_unavailable(
                masked, e164, channel, message=outcomes.SENDING_PAUSED_MESSAGE
            )

        code = generate_code(self.policy.code_length)
        digest = self._digest(e164, session_id, code)
        try:
            issued = await self.store.issue(e164, session_id, digest, self.policy, caller=caller)
        except StoreUnavailable:
            await budget.refund()
            audit("otp.unavailable", **where)
            return outcomes.request_unavailable(masked, e164, channel)

        if issued.status != "issued":
            await budget.refund()
            event = "otp.locked" if issued.status == "locked" else "otp.rate_limited"
            audit(event, **where, reason=issued.status, caller_ref=caller)
            return outcomes.request_refused(
                issued.status,
                masked,
                e164,
                issued.retry_after_seconds or 1,
                code_pending=issued.own_code_live,
                channel=channel,
            )
        if issued.tripped:
            self._ceiling_reached("sends", where)

        allowed = self.policy.allowed_countries
        if on_file and (allowed is None or region in allowed):
            self._deliveries.start(
                Delivery(
                    channel=channel,
                    to=e164,
                    body=self.code_message(code, channel, language),
                    language=language,
                    masked=masked,
                    phone_ref=ref,
                    session_id=session_id,
                    calling_code=calling_code,
                )
            )
        else:
            # Rule 6: a decoy challenge now stands for this number; nothing is sent, and the
            # caller hears exactly what a patient hears. A number on file in a country codes
            # may not go to is treated as one not on file.
            reason = "not_on_file" if not on_file else "country_not_allowed"
            audit("otp.not_on_file", **where, reason=reason, region=region)
        return outcomes.sent(
            masked, e164, self.policy.code_length, self.policy.ttl_seconds, channel
        )

    # -- guesses ----------------------------------------------------------------------------

    async def _verify_code(
        self, phone: str, code: str, session_id: str, caller_phone: str | None
    ) -> VerifyOutcome:
        _check_session_id(session_id)
        guess = parse_spoken_code(code, self.policy.code_length) if isinstance(code, str) else None
        e164 = parsed_phone(phone, self.default_region)
        if guess is None or e164 is None:
            audit("otp.malformed", phone=None, phone_ref=None, session_id=session_id)
            return outcomes.malformed(self.policy.code_length)
        masked, ref, _, calling_code = self._phone_tags(e164)
        where = {"phone": masked, "phone_ref": ref, "session_id": session_id}

        digest = self._digest(e164, session_id, guess)
        caller = self._caller_scope(caller_phone, e164)
        try:
            result = await self.store.check(e164, session_id, digest, self.policy, caller=caller)
        except StoreUnavailable:
            audit("otp.unavailable", **where)
            return outcomes.verify_unavailable()

        audit("otp." + result.status, **where, attempts_left=result.attempts_left,
              caller_ref=caller)  # fmt: skip
        if result.tripped:
            self._ceiling_reached("failures", where)
        status = result.status
        if status == "verified":
            count_code_verified(calling_code)
            return outcomes.VERIFIED
        if status == "wrong_code":
            return outcomes.wrong_code(result.attempts_left or 0)
        if status == "expired":
            return outcomes.EXPIRED
        if status == "locked":
            return outcomes.verify_locked(result.retry_after_seconds)
        return outcomes.NO_CODE

    # -- per-number work, done once per number ------------------------------------------------

    def _tags(self, e164: str) -> tuple[str, str, str, str]:
        """How logs and metrics name a number (masked, keyed reference) and where it is
        (ISO region, country calling code): a lookup of the E.164, once per number."""
        number = phonenumbers.parse(e164)
        region = phonenumbers.region_code_for_number(number) or ""
        return (
            mask_phone(e164),
            phone_reference(self._pepper, e164),
            region,
            str(number.country_code),
        )

    def _caller_scope(self, caller_phone: str | None, e164: str) -> str:
        """Whose limits a request or guess about `e164` feeds (rule 16): `CALLER_OWN` when
        the caller ID is that phone, `CALLER_WITHHELD` when there is none (or it is not a
        number), else a keyed hash of the caller's number (never the number itself)."""
        caller = parsed_phone(caller_phone, self.default_region)
        if caller is None:
            return CALLER_WITHHELD
        if caller == e164:
            return CALLER_OWN
        return self._caller_tags(caller)

    def _caller_tag(self, e164: str) -> str:
        return caller_reference(self._pepper, e164)

    def _ceiling_reached(self, ceiling: str, where: Mapping[str, str]) -> None:
        """A per-phone ceiling just filled: someone may be attacking this patient. A metric,
        and a warning staff can act on (masked number and its keyed reference only)."""
        count_ceiling(ceiling)
        audit("otp.phone_ceiling_reached", **where, ceiling=ceiling)


def _check_session_id(session_id: str) -> None:
    """Refuse, up front, a session id no store could hold (empty, huge, not valid Unicode)."""
    if not isinstance(session_id, str) or not 0 < len(session_id) <= MAX_SESSION_ID_CHARS:
        raise ValueError("session_id must be a non-empty string of at most 256 characters")
    if not session_id.isascii():
        try:
            session_id.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("session_id must be valid Unicode text") from None
