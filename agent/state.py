"""Per-call state: who this caller has proven to be, and what is in flight.

Verified state is written only by code paths that checked something (a name and date of
birth on record, a code from the store); tools read it, the LLM never sets it. Every grant
is bound to patient ids and expires (rule 8).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from clinic import ClinicDB
from verification import OtpService, VerificationLevel

GRANT_TTL_SECONDS = 15 * 60
MAX_IDENTITY_ATTEMPTS = 3
# Code requests one call may make, whatever the numbers: each phone has its own limits in the
# store, and this keeps one caller from having many patients texted.
MAX_CODE_REQUESTS_PER_CALL = 5


@dataclass(frozen=True, slots=True)
class CallOptions:
    """What the clinic allows and how callers reach a person (see `.env.example`)."""

    allow_phone_match_level2: bool = True
    staff_transfer_number: str | None = None
    front_desk_phone: str | None = None
    front_desk_hours: str | None = None


@dataclass
class Services:
    """The backends a call talks to. Built once per process, shared by its calls."""

    clinic: ClinicDB
    otp: OtpService
    options: CallOptions = field(default_factory=CallOptions)

    async def aclose(self) -> None:
        await self.otp.aclose()
        await self.clinic.aclose()


@dataclass(frozen=True, slots=True)
class Grant:
    level: VerificationLevel
    expires_at: float


@dataclass
class CallState:
    """Everything one call knows. `session_id` binds codes to this call."""

    services: Services
    session_id: str
    caller_phone: str | None = None
    sip_participant_identity: str | None = None
    clock: Callable[[], float] = time.monotonic
    grants: dict[str, Grant] = field(default_factory=dict)
    active_patient_id: str | None = None
    otp_phone: str | None = None
    identity_failures: int = 0
    code_requests: int = 0
    otp_send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    background: set[asyncio.Task[None]] = field(default_factory=set)

    def level_for(self, patient_id: str) -> VerificationLevel:
        """The level this caller holds for `patient_id` right now (expired grants count 0)."""
        grant = self.grants.get(patient_id)
        if grant is None or grant.expires_at <= self.clock():
            return VerificationLevel.NONE
        return grant.level

    def grant(self, patient_ids: Iterable[str], level: VerificationLevel) -> None:
        """Record a verification for these patients for the next 15 minutes.

        A grant never lowers a level the caller already holds (Level 1 after Level 2 keeps 2).
        """
        expires_at = self.clock() + GRANT_TTL_SECONDS
        for patient_id in patient_ids:
            held = max(level, self.level_for(patient_id))
            self.grants[patient_id] = Grant(VerificationLevel(held), expires_at)

    def verified_patients(self, minimum: VerificationLevel) -> list[str]:
        """Ids of the patients this caller holds at least `minimum` for."""
        return [pid for pid in self.grants if self.level_for(pid) >= minimum]
