"""Per-call state: who this caller has proven to be, and what is in flight.

Verified state is written only by code paths that checked something (a name and date of
birth on record, a code from the store); tools read it, the LLM never sets it. Every grant
is bound to one patient id and one level, and expires 15 minutes after that level was proven
(rule 8, rule 14): re-proving Level 1 never extends a Level 2 grant.

Per-call limits are kept here as counters that a tool reserves synchronously, before its
first `await`, so however many calls the model makes in one turn, no more are evaluated than
the limit allows (`reserve`).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from clinic import ClinicRecords
from verification import IdentityThrottle, OtpService, VerificationLevel

from .bookings import PatientBookings

GRANT_TTL_SECONDS = 15 * 60
# Unmatched name + date of birth answers one call may give (the store counts across calls).
MAX_IDENTITY_ATTEMPTS = 3


DEFAULT_MAX_NEW_BOOKINGS = 3


@dataclass(frozen=True, slots=True)
class CallOptions:
    """What the clinic allows and how callers reach a person (see `.env.example`).

    `max_new_bookings` bounds the new appointments one call books, and those one patient
    gets by phone in a day (across calls), so a caller at Level 1 cannot fill a week.
    `warm_transfer` puts the caller on hold while staff hear a briefing first; it needs the
    LiveKit SIP outbound trunk that dials staff (`sip_outbound_trunk`), else transfers are
    cold (agent/handoff.py).
    """

    allow_phone_match_level2: bool = True
    staff_transfer_number: str | None = None
    front_desk_phone: str | None = None
    front_desk_hours: str | None = None
    max_new_bookings: int = DEFAULT_MAX_NEW_BOOKINGS
    warm_transfer: bool = False
    sip_outbound_trunk: str | None = None
    # the longest a caller waits on hold for staff (ringing, then the briefing) before the
    # cold transfer takes over
    warm_transfer_timeout_seconds: float = 60.0


@dataclass
class Services:
    """The backends a call talks to. Built once per process, shared by its calls.

    `identity_throttle` counts wrong name + date of birth (+ phone) answers in the code
    store, across calls; by default `otp.identity_throttle()`: the code store, keyed with the
    service's pepper, under the service's `KnowledgePolicy` (`KBA_*` from the environment).
    """

    clinic: ClinicRecords
    otp: OtpService
    options: CallOptions = field(default_factory=CallOptions)
    identity_throttle: IdentityThrottle | None = None
    bookings: PatientBookings = field(init=False)

    def __post_init__(self) -> None:
        if self.identity_throttle is None:
            self.identity_throttle = self.otp.identity_throttle()
        self.bookings = PatientBookings(self.otp.counters, self.options.max_new_bookings)

    @property
    def throttle(self) -> IdentityThrottle:
        assert self.identity_throttle is not None  # set in __post_init__
        return self.identity_throttle

    async def aclose(self) -> None:
        await self.otp.aclose()
        await self.clinic.aclose()


@dataclass(frozen=True, slots=True)
class Grant:
    """One level proven for one patient, until `expires_at` (on `CallState.clock`)."""

    level: VerificationLevel
    expires_at: float


@dataclass(frozen=True, slots=True)
class ProvenPhone:
    """A phone proven by a code in this call, and when. Several patients may share it: the
    proof becomes Level 2 for one of them only once the caller names that patient."""

    phone_e164: str
    proven_at: float


class LimitReached(Exception):
    """A per-call limit is used up (the tool turns it into a sentence)."""


@dataclass
class CallState:
    """Everything one call knows. `session_id` binds codes to this call."""

    services: Services
    session_id: str
    caller_phone: str | None = None
    sip_participant_identity: str | None = None
    # the language the caller speaks ("en", "es"): what the agent says word for word, and the
    # code's text message, follow it
    language: str = "en"
    clock: Callable[[], float] = time.monotonic
    # patient id -> level -> grant; each level expires on its own
    grants: dict[str, dict[VerificationLevel, Grant]] = field(default_factory=dict)
    active_patient_id: str | None = None
    proven_phone: ProvenPhone | None = None
    identity_failures: int = 0
    new_bookings: int = 0
    in_flight: Counter[str] = field(default_factory=Counter)
    background: set[asyncio.Task[None]] = field(default_factory=set)
    # the OTP toolset's pending number, read through `otp_phone` (set by ClinicAgent)
    pending_phone_source: Callable[[], str | None] | None = None

    # -- grants -------------------------------------------------------------------------------

    def level_for(self, patient_id: str) -> VerificationLevel:
        """The highest level this caller holds for `patient_id` right now (expired: 0)."""
        now = self.clock()
        live = [g.level for g in self.grants.get(patient_id, {}).values() if g.expires_at > now]
        return max(live, default=VerificationLevel.NONE)

    def grant(
        self,
        patient_ids: Iterable[str],
        level: VerificationLevel,
        *,
        proven_at: float | None = None,
    ) -> None:
        """Record that `level` was proven for these patients at `proven_at` (default: now).

        Only that level's expiry moves, and never backwards: Level 1 proven again leaves a
        Level 2 grant to expire when it would have.
        """
        expires_at = (self.clock() if proven_at is None else proven_at) + GRANT_TTL_SECONDS
        for patient_id in patient_ids:
            held = self.grants.setdefault(patient_id, {})
            current = held.get(level)
            if current is None or current.expires_at < expires_at:
                held[level] = Grant(level, expires_at)

    def holds(self, patient_id: str, level: VerificationLevel) -> bool:
        """True while `level` itself (not a higher one) is live for `patient_id`."""
        grant = self.grants.get(patient_id, {}).get(level)
        return grant is not None and grant.expires_at > self.clock()

    def verified_patients(self, minimum: VerificationLevel) -> list[str]:
        """Ids of the patients this caller holds at least `minimum` for."""
        return [pid for pid in self.grants if self.level_for(pid) >= minimum]

    def live_proven_phone(self) -> ProvenPhone | None:
        """The phone proven by a code in this call, while that proof is fresh enough to
        grant Level 2 (it expires like the grant it stands for)."""
        proof = self.proven_phone
        if proof is None or proof.proven_at + GRANT_TTL_SECONDS <= self.clock():
            return None
        return proof

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` beside the turn (a transfer or hang-up after the reply is said), kept
        in `background` until it ends so it is neither collected nor forgotten."""
        task = asyncio.get_running_loop().create_task(work)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    @property
    def otp_phone(self) -> str | None:
        """The number a code is pending for in this call (from the OTP toolset), or None."""
        return self.pending_phone_source() if self.pending_phone_source else None

    # -- per-call limits ------------------------------------------------------------------------

    @contextmanager
    def reserve(self, what: str, used: int, limit: int) -> Iterator[None]:
        """Hold one of `limit` places for `what` while the body runs. Synchronous, so
        parallel tool calls in one turn see each other's reservations; `used` is what is
        already spent (failures, bookings), counted by the body itself."""
        if used + self.in_flight[what] >= limit:
            raise LimitReached(what)
        self.in_flight[what] += 1
        try:
            yield
        finally:
            self.in_flight[what] -= 1
            if not self.in_flight[what]:
                del self.in_flight[what]
