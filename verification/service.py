"""OtpService: issue a code to a number on file, and check a caller's guess.

Verification is kept apart from delivery (django-otp's lesson): the store decides, atomically,
whether a code may be issued and whether a guess is right; the sender only carries text.
The service adds what neither can know: who is on file (codes go only there, everyone else
gets a decoy that behaves identically), the digest (codes are never stored), and the audit
trail.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from collections.abc import Mapping

from . import outcomes
from .audit import audit
from .codes import code_digest, generate_code, phone_reference
from .directory import PhoneDirectory
from .metrics import OTP_REQUESTS, OTP_VERIFICATIONS
from .outcomes import RequestOutcome, VerifyOutcome
from .phone import mask_phone, normalize_phone
from .policy import OtpPolicy
from .sms.base import SmsDeliveryError, SmsSender
from .spoken import parse_spoken_code
from .stores.base import OtpStore, StoreUnavailable

log = logging.getLogger(__name__)

MAX_SESSION_ID_CHARS = 256


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
        response_floor_seconds: float = 0.0,
    ) -> None:
        if len(pepper) < 16:
            raise ValueError("pepper must be at least 16 bytes")
        self.store = store
        self.sender = sender
        self.directory = directory
        self.policy = policy
        self.clinic_name = clinic_name
        self.default_region = default_region
        self.response_floor_seconds = response_floor_seconds
        self._pepper = pepper

    @classmethod
    def from_env(
        cls, directory: PhoneDirectory, env: Mapping[str, str] | None = None
    ) -> OtpService:
        """Build the service the environment describes (see `.env.example`).

        `REDIS_URL` selects Redis, else the SQLite file `OTP_SQLITE_PATH`; SMS providers come
        from `SMS_PROVIDERS` / provider credentials, else the console stand-in. Raises
        `ConfigurationError` where production would be unsafe (no `OTP_PEPPER`, console SMS).
        """
        from .config import service_kwargs_from_env

        return cls(
            directory=directory, **service_kwargs_from_env(os.environ if env is None else env)
        )

    def sms_body(self, code: str) -> str:
        """The text message: clinic, code, lifetime, a warning. No name, no appointment (no
        PHI). Short enough for one 160-character SMS segment with a clinic name of ~60."""
        return (
            f"{self.clinic_name}: your verification code is {code}. It expires in "
            f"{outcomes.minutes(self.policy.ttl_seconds)}. Don't share it with anyone."
        )

    async def request_code(self, phone: str, *, session_id: str) -> RequestOutcome:
        """Text a fresh code to `phone` if it is on file; say "sent" either way."""
        outcome = await self._request_code(phone, session_id)
        OTP_REQUESTS.labels(outcome=outcome.status).inc()
        return outcome

    async def verify_code(self, phone: str, code: str, *, session_id: str) -> VerifyOutcome:
        """Check one guess (digits or spoken words) against this call's live code."""
        outcome = await self._verify_code(phone, code, session_id)
        OTP_VERIFICATIONS.labels(outcome=outcome.status).inc()
        return outcome

    async def _request_code(self, phone: str, session_id: str) -> RequestOutcome:
        started = time.monotonic()
        _check_session_id(session_id)
        try:
            e164 = normalize_phone(phone, self.default_region)
        except ValueError:
            audit("otp.invalid_phone", phone=None, phone_ref=None, session_id=session_id)
            return outcomes.invalid_phone()
        masked, ref = mask_phone(e164), phone_reference(self._pepper, e164)
        audit("otp.requested", phone=masked, phone_ref=ref, session_id=session_id)

        try:
            on_file = await self.directory.is_on_file(e164)
        except Exception:
            log.exception(
                "phone directory failed", extra={"phone": masked, "session_id": session_id}
            )
            audit("otp.unavailable", phone=masked, phone_ref=ref, session_id=session_id)
            return outcomes.request_unavailable(masked)

        code = generate_code(self.policy.code_length)
        challenge_id = secrets.token_hex(8)
        digest = code_digest(self._pepper, e164, session_id, code)
        try:
            issued = await self.store.issue(e164, session_id, digest, challenge_id, self.policy)
        except StoreUnavailable:
            audit("otp.unavailable", phone=masked, phone_ref=ref, session_id=session_id)
            return outcomes.request_unavailable(masked)

        if issued.status != "issued":
            event = "otp.locked" if issued.status == "locked" else "otp.rate_limited"
            audit(event, phone=masked, phone_ref=ref, session_id=session_id, reason=issued.status)
            return outcomes.request_refused(issued.status, masked, issued.retry_after_seconds or 1)

        if not on_file:
            # Rule 6: a decoy challenge now stands for this number; nothing is sent, and the
            # caller hears exactly what a patient hears.
            audit("otp.not_on_file", phone=masked, phone_ref=ref, session_id=session_id)
            await self._pad(started)
            return outcomes.sent(masked, self.policy.code_length, self.policy.ttl_seconds)

        try:
            receipt = await self.sender.send(e164, self.sms_body(code))
        except SmsDeliveryError as exc:
            await self._withdraw(e164, challenge_id, masked, session_id)
            audit(
                "otp.delivery_failed",
                phone=masked,
                phone_ref=ref,
                session_id=session_id,
                provider=exc.provider,
                error_code=exc.code,
                retryable=exc.retryable,
            )
            return outcomes.delivery_failed(masked, exc.reason)
        audit(
            "otp.sent",
            phone=masked,
            phone_ref=ref,
            session_id=session_id,
            provider=receipt.provider,
            message_id=receipt.message_id,
        )
        await self._pad(started)
        return outcomes.sent(masked, self.policy.code_length, self.policy.ttl_seconds)

    async def _verify_code(self, phone: str, code: str, session_id: str) -> VerifyOutcome:
        _check_session_id(session_id)
        guess = parse_spoken_code(code, self.policy.code_length) if isinstance(code, str) else None
        try:
            e164 = normalize_phone(phone, self.default_region)
        except ValueError:
            e164 = None
        if guess is None or e164 is None:
            audit("otp.malformed", phone=None, phone_ref=None, session_id=session_id)
            return outcomes.malformed(self.policy.code_length)
        masked, ref = mask_phone(e164), phone_reference(self._pepper, e164)

        digest = code_digest(self._pepper, e164, session_id, guess)
        try:
            result = await self.store.check(e164, session_id, digest, self.policy)
        except StoreUnavailable:
            audit("otp.unavailable", phone=masked, phone_ref=ref, session_id=session_id)
            return outcomes.verify_unavailable()

        audit(
            f"otp.{result.status}",
            phone=masked,
            phone_ref=ref,
            session_id=session_id,
            attempts_left=result.attempts_left,
        )
        if result.status == "verified":
            return outcomes.verified()
        if result.status == "wrong_code":
            return outcomes.wrong_code(result.attempts_left or 0)
        if result.status == "expired":
            return outcomes.expired()
        if result.status == "locked":
            return outcomes.verify_locked(result.retry_after_seconds)
        return outcomes.no_code()

    async def aclose(self) -> None:
        await self.store.aclose()
        close = getattr(self.sender, "aclose", None)
        if close is not None:
            await close()

    async def _withdraw(self, e164: str, challenge_id: str, masked: str, session_id: str) -> None:
        """Give back the send of a message that never left (best effort: a store outage
        here costs the caller one send of allowance, never a grant)."""
        try:
            await self.store.withdraw(e164, challenge_id)
        except StoreUnavailable:
            log.warning(
                "could not withdraw undelivered challenge",
                extra={"phone": masked, "session_id": session_id},
            )

    async def _pad(self, started: float) -> None:
        """Hold a "sent" answer until `response_floor_seconds` have passed, so the time it
        takes does not tell a real send from a decoy."""
        remaining = self.response_floor_seconds - (time.monotonic() - started)
        if remaining > 0:
            await asyncio.sleep(remaining)


def _check_session_id(session_id: str) -> None:
    """Refuse, up front, a session id no store could hold (empty, huge, not valid Unicode)."""
    if not isinstance(session_id, str) or not 0 < len(session_id) <= MAX_SESSION_ID_CHARS:
        raise ValueError("session_id must be a non-empty string of at most 256 characters")
    try:
        session_id.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("session_id must be valid Unicode text") from None
