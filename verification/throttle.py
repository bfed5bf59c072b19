"""Throttling answers anyone could know: name + date of birth (+ phone) (rule 11).

A caller who knows a patient's name and birth year can try dates, or phones, call after call.
`IdentityThrottle` keeps their failures where every call sees them (the OTP store, SQLite or
Redis): per patient record across all calls, and per caller number across records. A check
is counted *before* it is evaluated (`attempt`), so parallel checks can never get more
through than the limit; a check that matched gives its count back (`succeeded`). Windows
slide: at most the limit in any `window_seconds`, however the failures are spread.

A phone proven by a code in this call changes whose counter an answer feeds (issue 15.3): a
stranger's three wrong dates of birth for Lucas fill Lucas's record counter, and Maria, who
shares Lucas's phone and has just proven it, must still be able to name him. With
`proven_phone`, an answer about a record is charged to a small counter of its own, per
(record, proven phone), instead of the record counter strangers can trip.

Counters are named by `KeyedCounters`: a keyed hash (HMAC with the pepper when one is given)
of what they count, never the caller's number or the record id in clear. A caller whose
number is withheld has no caller counter (sharing one across every withheld call of the
clinic would let one stranger lock the route for all of them); the per-record counter still
bounds what they can try against any one patient, and that is the bound that matters.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from .phone import normalize_phone
from .policy import KnowledgePolicy
from .stores.base import CounterStore

_UNKEYED = b"verification.throttle"


class KeyedCounters:
    """Named counters in a `CounterStore` whose names are keyed hashes of what they count.

    `subject("booking", patient_id)` names a counter without putting the id in the store
    (and without an unkeyed hash anyone could recompute from a list of ids); `take` and
    `give_back` are the store's own, windows sliding. `OtpService.counters` gives one keyed
    with the service's pepper:

        counters = service.counters
        booking = counters.subject("booking", patient_id)
        if await counters.take([(booking, 3)], 86400) is None: ...  # counted
        await counters.give_back([booking])                          # undo one
    """

    def __init__(self, store: CounterStore, *, pepper: bytes | None = None) -> None:
        self.store = store
        self._key = pepper or _UNKEYED

    def subject(self, kind: str, value: str) -> str:
        """The counter for `value` of `kind` ("record", "caller", "booking", ...)."""
        # surrogatepass: an id that is not valid Unicode (a lone surrogate) is still an id
        message = f"{kind}\x1f{value}".encode("utf-8", "surrogatepass")
        tag = hmac.new(self._key, message, hashlib.sha256).hexdigest()[:24]
        return f"{kind}:{tag}"

    async def take(self, limits: Sequence[tuple[str, int]], window_seconds: int) -> int | None:
        """Count one in advance on every `(subject, limit)`, or on none if any is full:
        None when counted, else the seconds until the first refusing counter has room.
        Raises `StoreUnavailable` when the store cannot be reached."""
        return await self.store.take(limits, window_seconds)

    async def give_back(self, subjects: Sequence[str]) -> None:
        """Undo one `take` on each subject (never below zero)."""
        await self.store.give_back(subjects)


@dataclass(frozen=True, slots=True)
class ThrottleDecision:
    """May this answer be checked? If not, `retry_after_seconds` says when it may."""

    allowed: bool
    retry_after_seconds: int | None = None


class IdentityThrottle:
    """Name + date of birth (+ phone) answers, throttled in the shared store like codes."""

    def __init__(
        self,
        store: CounterStore,
        policy: KnowledgePolicy = KnowledgePolicy(),  # noqa: B008 - frozen, shared default is safe
        *,
        pepper: bytes | None = None,
        default_region: str = "US",
    ) -> None:
        self.store = store
        self.policy = policy
        self.counters = KeyedCounters(store, pepper=pepper)
        self._region = default_region

    async def attempt(
        self, *, record_id: str | None, caller_phone: str | None, proven_phone: str | None = None
    ) -> ThrottleDecision:
        """Count one failure in advance against the record (if given) and the caller (if
        known); refuse, counting nothing, when either is at its limit. With neither, there
        is nothing to count against and the answer is allowed.

        `proven_phone`: a number a code proved in this call that is on the record; the
        answer then counts on the (record, proven phone) counter instead of the record's.
        Raises `StoreUnavailable` when the store cannot be reached."""
        limits = self._limits(record_id, caller_phone, proven_phone)
        if not limits:
            return ThrottleDecision(True)
        wait = await self.counters.take(limits, self.policy.window_seconds)
        if wait is None:
            return ThrottleDecision(True)
        return ThrottleDecision(False, wait)

    async def succeeded(
        self, *, record_id: str | None, caller_phone: str | None, proven_phone: str | None = None
    ) -> None:
        """The answer matched: give back what `attempt` counted (never more). Pass the same
        arguments as to `attempt`."""
        subjects = [subject for subject, _ in self._limits(record_id, caller_phone, proven_phone)]
        if subjects:
            await self.counters.give_back(subjects)

    def _limits(
        self, record_id: str | None, caller_phone: str | None, proven_phone: str | None
    ) -> list[tuple[str, int]]:
        policy = self.policy
        limits = []
        if record_id is not None:
            proven = self._number(proven_phone)
            if proven is not None:
                subject = self.counters.subject("proven", f"{record_id}\x1f{proven}")
                limits.append((subject, policy.max_failures_per_proven_phone))
            else:
                subject = self.counters.subject("record", record_id)
                limits.append((subject, policy.max_failures_per_record))
        caller = self._number(caller_phone, keep_odd=True)
        if caller is not None:
            limits.append((self.counters.subject("caller", caller), policy.max_failures_per_caller))
        return limits

    def _number(self, phone: str | None, *, keep_odd: bool = False) -> str | None:
        """`phone` in E.164 (an `E164` as it is; "+1 415..." and "415..." are one number)."""
        if not isinstance(phone, str) or not phone.strip():
            return None
        try:
            return normalize_phone(phone, self._region)
        except ValueError:
            # an odd caller id is still that caller's; an odd "proven" number proves nothing
            return phone.strip()[:64] if keep_odd else None
