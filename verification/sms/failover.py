"""Several SMS providers behind one sender: try them in order, inside one deadline.

A code is only useful while it lives, so the whole send has a deadline (default 8 s) and
each provider an attempt timeout (default 5 s). Only retryable errors move on to the next
provider: an invalid or opted-out number is the same number everywhere, so it stops at once.
A provider that keeps failing is skipped for a cool-off period by its circuit breaker, so
every send does not pay its timeout; after the cool-off one send probes it (half-open) and
its result closes or re-opens the breaker.

Where the breaker lives matters: LiveKit runs every call in a process of its own that exits
with the call, so a breaker in memory would start closed on every call and each caller
would pay the dead provider's timeout again. Given a `breaker_store` (the OTP store: SQLite
for one machine, Redis for many), every process shares one breaker per provider
(`StoreBreaker`); without one, each sender keeps a `CircuitBreaker` in memory (tests, a
single long-lived process).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Literal, Protocol

from ..metrics import record_sms_attempt
from ..phone import mask_phone
from ..stores.base import BreakerStore, StoreUnavailable
from .base import SmsDeliveryError, SmsReceipt, SmsSender, close_sender

logger = logging.getLogger(__name__)

PROVIDER = "failover"

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Consecutive-failure breaker for one provider.

    closed: every send may try. After `threshold` consecutive failures: open, every send
    skips it for `cooloff` seconds. Then half-open: exactly one send may probe it; success
    closes the breaker, failure re-opens it for another cool-off. Single event loop only
    (no locking): all calls happen between awaits.
    """

    def __init__(
        self,
        threshold: int = 3,
        cooloff: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        if cooloff < 0:
            raise ValueError("cooloff must not be negative")
        self.threshold = threshold
        self.cooloff = cooloff
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        """The state as of now (an open breaker whose cool-off passed reads half_open)."""
        if self._opened_at is None:
            return "closed"
        if self._probing or self._clock() - self._opened_at >= self.cooloff:
            return "half_open"
        return "open"

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """May a send use this provider now? In half-open, claims the single probe."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._probing:
            self._probing = True
            return True
        return False

    def record_success(self) -> None:
        """The provider answered (accepted, or refused for a recipient reason): close."""
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        """The provider failed in a way another provider might not: count it."""
        self._failures += 1
        if self._probing or self._failures >= self.threshold:
            self._opened_at = self._clock()
        self._probing = False

    def release(self) -> None:
        """The probe ended without a verdict (the send was cancelled): let another probe."""
        self._probing = False


class _Breaker(Protocol):
    async def allow(self) -> bool: ...
    async def record_success(self) -> None: ...
    async def record_failure(self) -> None: ...
    async def release(self) -> None: ...

    def describe(self) -> str: ...


class _MemoryBreaker:
    """A `CircuitBreaker` behind the async face the sender uses."""

    def __init__(self, breaker: CircuitBreaker) -> None:
        self.breaker = breaker

    async def allow(self) -> bool:
        return self.breaker.allow()

    async def record_success(self) -> None:
        self.breaker.record_success()

    async def record_failure(self) -> None:
        self.breaker.record_failure()

    async def release(self) -> None:
        self.breaker.release()

    def describe(self) -> str:
        return self.breaker.state


class StoreBreaker:
    """One provider's breaker kept in a `BreakerStore`, shared by every process using it.

    Same rules as `CircuitBreaker`; the probe is a lease of `probe_seconds` (the send
    deadline), so a process that dies mid-probe does not hold it for ever. If the store
    cannot be reached, sends go ahead (fail open): a breaker only saves time, and refusing
    to send because the store hiccuped would lose the code.
    """

    def __init__(
        self,
        store: BreakerStore,
        provider: str,
        *,
        threshold: int,
        cooloff: float,
        probe_seconds: float,
    ) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self.store = store
        self.provider = provider
        self.threshold = threshold
        self.cooloff = cooloff
        self.probe_seconds = probe_seconds

    async def allow(self) -> bool:
        try:
            return await self.store.breaker_allow(self.provider, self.probe_seconds)
        except StoreUnavailable:
            self._store_down("allow")
            return True

    async def record_success(self) -> None:
        await self._record(failed=False)

    async def record_failure(self) -> None:
        await self._record(failed=True)

    async def release(self) -> None:
        try:
            await self.store.breaker_release(self.provider)
        except StoreUnavailable:
            self._store_down("release")

    def describe(self) -> str:
        return "shared"

    async def _record(self, *, failed: bool) -> None:
        try:
            await self.store.breaker_record(
                self.provider,
                failed=failed,
                threshold=self.threshold,
                cooloff_seconds=self.cooloff,
            )
        except StoreUnavailable:
            self._store_down("record")

    def _store_down(self, step: str) -> None:
        logger.warning(
            "sms breaker store unavailable (%s); sending without it",
            step,
            extra={"sms_provider": self.provider},
        )


class FailoverSmsSender:
    """Tries `senders` in order until one accepts; see the module docstring for the rules."""

    provider = PROVIDER

    def __init__(
        self,
        senders: Sequence[SmsSender],
        *,
        attempt_timeout: float = 5.0,
        deadline: float = 8.0,
        breaker_threshold: int = 3,
        breaker_cooloff: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        breaker_store: BreakerStore | None = None,
    ) -> None:
        if not senders:
            raise ValueError("FailoverSmsSender needs at least one sender")
        if attempt_timeout <= 0 or deadline <= 0:
            raise ValueError("attempt_timeout and deadline must be positive")
        self._senders = list(senders)
        self._names = [str(getattr(s, "provider", type(s).__name__)) for s in self._senders]
        self._memory = [
            CircuitBreaker(breaker_threshold, breaker_cooloff, clock) for _ in self._senders
        ]
        self._breakers: list[_Breaker] = (
            [_MemoryBreaker(b) for b in self._memory]
            if breaker_store is None
            else [
                StoreBreaker(
                    breaker_store,
                    name,
                    threshold=breaker_threshold,
                    cooloff=breaker_cooloff,
                    probe_seconds=deadline,
                )
                for name in self._names
            ]
        )
        self.shares_breakers = breaker_store is not None
        self._attempt_timeout = attempt_timeout
        self._deadline = deadline

    def __repr__(self) -> str:
        return f"FailoverSmsSender({self._names!r}, deadline={self._deadline!r})"

    @property
    def senders(self) -> list[SmsSender]:
        return list(self._senders)

    @property
    def breakers(self) -> list[CircuitBreaker]:
        """One in-memory breaker per sender, in the same order (tests); unused, and closed,
        when the breakers are shared through a `breaker_store`."""
        return list(self._memory)

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
