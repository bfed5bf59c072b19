"""Circuit breakers for SMS providers, kept where every call process sees them.

A provider that keeps failing is skipped for a cool-off period, so every send does not pay its
timeout; after the cool-off one send (across every process) probes it, and its result closes
or re-opens the breaker. LiveKit runs each call in a process of its own that exits with the
call, so a breaker kept in memory would start closed on every call and each caller would pay
the dead provider's timeout again: the state lives in a `BreakerStore` (the OTP store: SQLite
for one machine, Redis for many), and the rules live in that store's one atomic step.

`StoreBreaker` is one provider's breaker on such a store; `NoBreaker` is what a
`FailoverSmsSender` built without a store uses (every provider is always tried).
"""

from __future__ import annotations

import logging
from typing import Protocol

from ..stores.base import BreakerStore, StoreUnavailable

logger = logging.getLogger(__name__)


class Breaker(Protocol):
    """What `FailoverSmsSender` asks of one provider's breaker."""

    async def allow(self) -> bool:
        """May a send use this provider now? In half-open, claims the single probe."""
        ...

    async def record_success(self) -> None:
        """The provider answered (accepted, or refused for a recipient reason): close."""
        ...

    async def record_failure(self) -> None:
        """The provider failed in a way another provider might not: count it."""
        ...

    async def release(self) -> None:
        """The probe ended without a verdict (the send was cancelled): let another probe."""
        ...

    def describe(self) -> str:
        """A word for the logs: where this breaker lives."""
        ...


class StoreBreaker:
    """One provider's breaker kept in a `BreakerStore`, shared by every process using it.

    closed: every send may try. After `threshold` consecutive failures: open, every send skips
    the provider for `cooloff` seconds. Then half-open: one send may probe it, holding the
    probe as a lease of `probe_seconds` (the send deadline), so a process that dies mid-probe
    does not hold it for ever. If the store cannot be reached, sends go ahead (fail open): a
    breaker only saves time, and refusing to send because the store hiccuped would lose the
    code.
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
        if cooloff < 0:
            raise ValueError("cooloff must not be negative")
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


class NoBreaker:
    """No breaker: the provider is always tried (a sender built without a `BreakerStore`)."""

    async def allow(self) -> bool:
        return True

    async def record_success(self) -> None:
        """Nothing is kept."""

    async def record_failure(self) -> None:
        """Nothing is kept."""

    async def release(self) -> None:
        """Nothing is held."""

    def describe(self) -> str:
        return "none"
