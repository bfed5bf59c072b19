"""Throttling answers anyone could know: name + date of birth (+ phone) (rule 11).

A caller who knows a patient's name and birth year can try dates, or phones, call after call.
`IdentityThrottle` keeps their failures where every call sees them (the OTP store, SQLite or
Redis): per patient record across all calls, and per caller number across records. A check
is counted *before* it is evaluated (`attempt`), so parallel checks can never get more
through than the limit; a check that matched gives its count back (`succeeded`).

Counters are keyed by a keyed hash (HMAC with the pepper when one is given), never by the
caller's number or the record id in clear. A caller whose number is withheld has no caller
counter (sharing one across every withheld call of the clinic would let one stranger lock
the route for all of them); the per-record counter still bounds what they can try against
any one patient, and that is the bound that matters.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from .phone import normalize_phone
from .policy import KnowledgePolicy
from .stores.base import OtpStore

_UNKEYED = b"verification.throttle"


@dataclass(frozen=True, slots=True)
class ThrottleDecision:
    """May this answer be checked? If not, `retry_after_seconds` says when it may."""

    allowed: bool
    retry_after_seconds: int | None = None


class IdentityThrottle:
    """Name + date of birth (+ phone) answers, throttled in the shared store like codes."""

    def __init__(
        self,
        store: OtpStore,
        policy: KnowledgePolicy = KnowledgePolicy(),  # noqa: B008 - frozen, shared default is safe
        *,
        pepper: bytes | None = None,
        default_region: str = "US",
    ) -> None:
        self.store = store
        self.policy = policy
        self._key = pepper or _UNKEYED
        self._region = default_region

    async def attempt(self, *, record_id: str | None, caller_phone: str | None) -> ThrottleDecision:
        """Count one failure in advance against the record (if given) and the caller (if
        known); refuse, counting nothing, when either is at its limit. With neither, there
        is nothing to count against and the answer is allowed. Raises `StoreUnavailable`
        when the store cannot be reached."""
        counters = self._counters(record_id, caller_phone)
        if not counters:
            return ThrottleDecision(True)
        wait = await self.store.take(counters, self.policy.window_seconds)
        if wait is None:
            return ThrottleDecision(True)
        return ThrottleDecision(False, wait)

    async def succeeded(self, *, record_id: str | None, caller_phone: str | None) -> None:
        """The answer matched: give back what `attempt` counted (never more)."""
        subjects = [subject for subject, _ in self._counters(record_id, caller_phone)]
        if subjects:
            await self.store.give_back(subjects)

    def _counters(self, record_id: str | None, caller_phone: str | None) -> list[tuple[str, int]]:
        policy = self.policy
        counters = []
        if record_id is not None:
            counters.append((self._subject("record", record_id), policy.max_failures_per_record))
        caller = self._caller(caller_phone)
        if caller is not None:
            counters.append((self._subject("caller", caller), policy.max_failures_per_caller))
        return counters

    def _caller(self, caller_phone: str | None) -> str | None:
        """The caller's number in E.164 (so "+1 415..." and "415..." are one caller)."""
        if not isinstance(caller_phone, str) or not caller_phone.strip():
            return None
        try:
            return normalize_phone(caller_phone, self._region)
        except ValueError:
            return caller_phone.strip()[:64]  # an odd caller id is still that caller's

    def _subject(self, kind: str, value: str) -> str:
        # surrogatepass: an id that is not valid Unicode (a lone surrogate) is still an id
        message = f"{kind}\x1f{value}".encode("utf-8", "surrogatepass")
        tag = hmac.new(self._key, message, hashlib.sha256).hexdigest()[:24]
        return f"{kind}:{tag}"
