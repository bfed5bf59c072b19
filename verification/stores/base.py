"""What a code store must do, as two atomic operations plus one compensation.

`issue` and `check` each run as one indivisible step on the backing store (one transaction on
SQLite, one Lua script on Redis): the send limits, the cooldown, the attempt and failure
counters are read and written inside that step, so parallel requests or guesses can never
be counted as fewer than they are. Stores see digests only, never codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from ..policy import OtpPolicy

IssueStatus = Literal["issued", "locked", "cooldown", "rate_limited"]
CheckStatus = Literal["verified", "wrong_code", "expired", "no_code", "locked"]


class StoreUnavailable(Exception):
    """The store could not be reached or did not answer in time; nothing was decided."""


@dataclass(frozen=True, slots=True)
class IssueResult:
    status: IssueStatus
    retry_after_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    status: CheckStatus
    attempts_left: int | None = None
    retry_after_seconds: int | None = None


class OtpStore(Protocol):
    async def issue(
        self, phone: str, session_id: str, digest: bytes, challenge_id: str, policy: OtpPolicy
    ) -> IssueResult:
        """Atomically: refuse if locked / cooling down / over the send window, else record the
        send and replace any live challenge for `phone` with this one."""
        ...

    async def withdraw(self, phone: str, challenge_id: str) -> None:
        """Undo an `issue` whose SMS never left: drop its challenge and give the send back."""
        ...

    async def check(
        self, phone: str, session_id: str, digest: bytes, policy: OtpPolicy
    ) -> CheckResult:
        """Atomically compare a guess with the live challenge of `phone` for `session_id` and
        update the attempt and failure counters."""
        ...

    async def aclose(self) -> None: ...


def seconds_until(deadline: float, now: float) -> int:
    """Whole seconds (rounded up, at least 1) a caller must wait for `deadline`."""
    remaining = deadline - now
    return max(1, int(remaining) + (0 if remaining == int(remaining) else 1))
