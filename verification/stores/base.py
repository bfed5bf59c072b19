"""What a code store must do: each operation one atomic step on the backing store.

`issue` and `check` each run as one indivisible step (one transaction on SQLite, one Lua
script on Redis): the send limits, the cooldown, the attempt and failure counters are read
and written inside that step, so parallel requests or guesses can never be counted as fewer
than they are. Stores see digests only, never codes.

Codes are kept per (phone, session): a code requested in one call never replaces or voids
another call's live code for the same phone (rule 12). `caller` says whose limits a request
or a guess feeds (rule 16: caller ID is a hint an attacker can set, so it may narrow a
lockout to the attacker's own calls, never widen one to the patient):

- a keyed hash of another number (`verification.codes.caller_reference`, never the number
  itself): that caller's own cooldown, send allowance and failure count, under the phone's
  ceilings;
- `CALLER_WITHHELD` (no caller ID, or not a number): the phone's ceilings only, and a
  cooldown of the call's own;
- `CALLER_OWN` (the caller ID is the phone itself): the same, plus the owner's reserve
  beyond the ceilings (`OtpPolicy.owner_reserve_*`).

Every window slides: at most the limit in any window's length, however the events spread.

The same stores also hold two kinds of shared state that must outlive one call process:
failure counters for knowledge-based answers (`take` / `give_back`, used by
`IdentityThrottle`), and the SMS providers' circuit breakers (`breaker_*`, used by
`FailoverSmsSender` through `StoreBreakers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from ..policy import OtpPolicy

IssueStatus = Literal["issued", "locked", "cooldown", "rate_limited"]
CheckStatus = Literal["verified", "wrong_code", "expired", "no_code", "locked"]

#: the caller ID is the phone itself
CALLER_OWN: Final = "own"
#: no caller ID, or one that is not a phone number
CALLER_WITHHELD: Final = "withheld"


def caller_kind(caller: str) -> str:
    """'own', 'withheld', or 'other' (another number's keyed hash): the three kinds of caller
    the limits tell apart, in both stores (the Lua scripts take it as their `kind`)."""
    return caller if caller in (CALLER_OWN, CALLER_WITHHELD) else "other"


#: the Redis store's defaults, here (not in `redis.py`) so that settings can name them
#: without the 'redis' extra installed
DEFAULT_KEY_PREFIX: Final = "otp"
DEFAULT_MAX_CONNECTIONS: Final = 64


class StoreUnavailable(Exception):
    """The store could not be reached or did not answer in time; nothing was decided."""


@dataclass(frozen=True, slots=True)
class IssueResult:
    status: IssueStatus
    retry_after_seconds: int | None = None
    #: refused, but this session's own code is still live (a "cooldown" with a code pending)
    own_code_live: bool = False
    #: this send filled the phone's send ceiling (`OtpPolicy.max_phone_sends`)
    tripped: bool = False


@dataclass(frozen=True, slots=True)
class CheckResult:
    status: CheckStatus
    attempts_left: int | None = None
    retry_after_seconds: int | None = None
    #: this wrong guess filled the phone's failure ceiling (`OtpPolicy.max_phone_failures`)
    tripped: bool = False


class CodeStore(Protocol):
    """Codes and the limits around them: one atomic step per request and per guess."""

    async def issue(
        self, phone: str, session_id: str, digest: bytes, policy: OtpPolicy, *, caller: str
    ) -> IssueResult:
        """Atomically: refuse if `caller` is locked out of `phone`, cooling down, over its
        send allowance, or the phone is over its send ceiling (the owner's reserve aside);
        else record the send and make `digest` this session's one live code for `phone`."""
        ...

    async def check(
        self, phone: str, session_id: str, digest: bytes, policy: OtpPolicy, *, caller: str
    ) -> CheckResult:
        """Atomically compare a guess with this session's live code for `phone` and count a
        wrong one against the code, against `caller` (another number's own count) and
        against the phone's ceiling (or, past it, the owner's reserve)."""
        ...

    async def aclose(self) -> None: ...


class CounterStore(Protocol):
    """Named failure counters shared by every call (knowledge answers, booking quotas)."""

    async def take(self, counters: Sequence[tuple[str, int]], window_seconds: int) -> int | None:
        """Atomically count one event in advance on every `(subject, limit)` counter, or,
        if any already holds `limit` events in the last `window_seconds`, on none of them:
        return None when counted, else the seconds until the first refusing counter has
        room."""
        ...

    async def give_back(self, subjects: Sequence[str]) -> None:
        """Undo one `take` on each subject (its newest event; never below zero)."""
        ...

    async def aclose(self) -> None: ...


class BreakerStore(Protocol):
    """SMS providers' circuit breakers, shared by every call process."""

    async def breaker_allow(self, provider: str, probe_seconds: float) -> bool:
        """May a send use `provider` now? Closed: yes. Open: no, until its cool-off ends;
        then exactly one caller (across every process) gets the probe, held for at most
        `probe_seconds`."""
        ...

    async def breaker_record(
        self, provider: str, *, failed: bool, threshold: int, cooloff_seconds: float
    ) -> None:
        """A verdict on `provider`: a success closes its breaker; a failure counts, and opens
        it for `cooloff_seconds` at `threshold` consecutive failures or after a failed probe."""
        ...

    async def breaker_release(self, provider: str) -> None:
        """A probe ended without a verdict (cancelled): let another send probe."""
        ...

    async def aclose(self) -> None: ...


class OtpStore(CodeStore, CounterStore, BreakerStore, Protocol):
    """All three on one backing store and one connection (`SqliteOtpStore`, `RedisOtpStore`)."""


def seconds_until(deadline: float, now: float) -> int:
    """Whole seconds (rounded up, at least 1) a caller must wait for `deadline`."""
    remaining = deadline - now
    return max(1, int(remaining) + (0 if remaining == int(remaining) else 1))
