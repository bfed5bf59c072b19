"""Several SMS providers behind one sender: try them in order, inside one deadline.

A code is only useful while it lives, so the whole send has a deadline (default 8 s) and
each provider an attempt timeout (default 5 s). Only retryable errors move on to the next
provider: an invalid or opted-out number is the same number everywhere, so it stops at once.
Given a `breaker_store` (the OTP store), a provider that keeps failing is skipped for a
cool-off by its circuit breaker, shared by every call process (`verification.sms.breakers`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from ..metrics import record_sms_attempt
from ..phone import mask_phone
from ..stores.base import BreakerStore
from .base import SmsDeliveryError, SmsReceipt, SmsSender, close_sender
from .breakers import Breaker, NoBreaker, StoreBreaker

logger = logging.getLogger(__name__)

PROVIDER = "failover"


class FailoverSmsSender:
    """Tries `senders` in order until one accepts; see the module docstring for the rules."""

    provider = PROVIDER

    def __init__(
        self,
        senders: Sequence[SmsSender],
        *,
        attempt_timeout: float = 5.0,
        deadline: float = 8.0,
        breaker_store: BreakerStore | None = None,
        breaker_threshold: int = 3,
        breaker_cooloff: float = 60.0,
    ) -> None:
        if not senders:
            raise ValueError("FailoverSmsSender needs at least one sender")
        if attempt_timeout <= 0 or deadline <= 0:
            raise ValueError("attempt_timeout and deadline must be positive")
        self._senders = list(senders)
        self._names = [str(getattr(s, "provider", type(s).__name__)) for s in self._senders]
        self._breakers: list[Breaker] = [
            NoBreaker()
            if breaker_store is None
            else StoreBreaker(
                breaker_store,
                name,
                threshold=breaker_threshold,
                cooloff=breaker_cooloff,
                probe_seconds=deadline,
            )
            for name in self._names
        ]
        self.shares_breakers = breaker_store is not None
        self._attempt_timeout = attempt_timeout
        self._deadline = deadline

    def __repr__(self) -> str:
        return f"FailoverSmsSender({self._names!r}, deadline={self._deadline!r})"

    @property
    def senders(self) -> list[SmsSender]:
        return list(self._senders)

    async def aclose(self) -> None:
        """Close every sender that has something to close (`close_sender`), each one even if
        another fails; the first failure is raised once all were tried."""
        failure: BaseException | None = None
        for sender in self._senders:
            try:
                await close_sender(sender)
            except Exception as exc:
                failure = failure or exc
        if failure is not None:
            raise failure

    async def send(self, to: str, body: str) -> SmsReceipt:
        """Send through the first provider that accepts; raise `SmsDeliveryError` otherwise."""
        masked = mask_phone(to)
        last_error: SmsDeliveryError | None = None
        in_flight: int | None = None
        tried = 0
        try:
            async with asyncio.timeout(self._deadline):
                for index, sender in enumerate(self._senders):
                    name, breaker = self._names[index], self._breakers[index]
                    if not await breaker.allow():
                        logger.info(
                            "sms provider %s skipped: circuit open",
                            name,
                            extra={
                                "sms_provider": name,
                                "sms_to": masked,
                                "sms_breaker": breaker.describe(),
                            },
                        )
                        continue
                    tried += 1
                    in_flight = index
                    try:
                        outcome = await self._attempt(sender, name, to, body)
                    except BaseException:
                        # cancelled mid-attempt: no verdict (yet); shielded, so the release
                        # itself is not cancelled half-way
                        await asyncio.shield(breaker.release())
                        raise
                    in_flight = None
                    if isinstance(outcome, SmsReceipt):
                        await breaker.record_success()
                        return outcome
                    if not outcome.retryable:
                        await breaker.record_success()  # the provider works; the number does not
                        raise outcome
                    await breaker.record_failure()
                    last_error = outcome
                    self._log_hop(name, outcome, masked, index)
        except TimeoutError:
            if in_flight is not None:  # the deadline cut this provider short: it was slow
                await self._breakers[in_flight].record_failure()
            logger.error(
                "sms not sent: deadline of %gs passed",
                self._deadline,
                extra=self._extra(last_error, masked),
            )
            raise SmsDeliveryError(
                f"no SMS provider took the message to the number {masked} "
                f"within {self._deadline:g}s",
                provider=PROVIDER,
                retryable=True,
                code="deadline",
            ) from last_error
        what = "every provider failed" if tried else "every provider is paused (circuit open)"
        logger.error("sms not sent: %s", what, extra=self._extra(last_error, masked))
        raise SmsDeliveryError(
            f"no SMS provider took the message to the number {masked}: {what}",
            provider=PROVIDER,
            retryable=True,
            code="exhausted" if tried else "circuit_open",
        ) from last_error

    async def _attempt(
        self, sender: SmsSender, name: str, to: str, body: str
    ) -> SmsReceipt | SmsDeliveryError:
        """One provider, bounded by the attempt timeout; errors come back as values."""
        started = time.monotonic()
        outcome: SmsReceipt | SmsDeliveryError | None = None
        try:
            outcome = await self._bounded_send(sender, name, to, body)
            return outcome
        finally:  # also when the overall deadline cancels this attempt
            error_code = (
                "deadline"
                if outcome is None
                else outcome.code
                if isinstance(outcome, SmsDeliveryError)
                else None
            )
            record_sms_attempt(name, time.monotonic() - started, error_code)

    async def _bounded_send(
        self, sender: SmsSender, name: str, to: str, body: str
    ) -> SmsReceipt | SmsDeliveryError:
        try:
            async with asyncio.timeout(self._attempt_timeout):
                return await sender.send(to, body)
        except SmsDeliveryError as exc:
            return exc
        except TimeoutError:
            return SmsDeliveryError(
                f"{name} gave no answer within {self._attempt_timeout:g}s",
                provider=name,
                retryable=True,
                code="timeout",
            )
        except Exception as exc:  # a sender broke the protocol; do not let it end the call
            return SmsDeliveryError(
                f"{name} failed unexpectedly ({type(exc).__name__})",
                provider=name,
                retryable=True,
                code="error",
            )

    def _log_hop(self, name: str, error: SmsDeliveryError, masked: str, index: int) -> None:
        nxt = self._names[index + 1] if index + 1 < len(self._names) else None
        logger.warning(
            "sms provider %s failed (error %s); %s",
            name,
            error.code,
            f"trying {nxt}" if nxt else "no provider left",
            extra={
                **self._extra(error, masked),
                "sms_next_provider": nxt,
                "sms_breaker": self._breakers[index].describe(),
            },
        )

    @staticmethod
    def _extra(error: SmsDeliveryError | None, masked: str) -> dict[str, object]:
        return {
            "sms_provider": error.provider if error else None,
            "sms_error_code": error.code if error else None,
            "sms_retryable": error.retryable if error else None,
            "sms_to": masked,
        }
