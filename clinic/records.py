"""`ClinicRecords`: everything the agent and `verification` ask of a clinic's record system.

This is the seam where a practice-management system plugs in. `ClinicDB` (SQLite, one machine)
and `PostgresRecords` (PostgreSQL, several machines) implement it; an adapter for a clinic's own
system implements it too and must keep the same guarantees (docs/operations.md lists them):

* a slot has at most one booked appointment, whoever races for it;
* a reschedule moves atomically (old slot freed and new slot taken, or nothing changes);
* a cancelled appointment stays cancelled;
* a refused write (any `ClinicError`) leaves the records unchanged;
* records that cannot be reached raise `clinic.Unavailable`, never anything else;
* names match only under `clinic.names.names_match` (fail closed), dates of birth exactly.

Times are naive clinic-local `datetime`s; ids are the short strings of `clinic.ids`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol, runtime_checkable

from .models import Appointment, Patient, Slot


@runtime_checkable
class ClinicRecords(Protocol):
    """The clinic's patients, providers, slots and appointments (see the module docstring)."""

    def now(self) -> datetime:
        """Clinic-local time now (naive, whole seconds), as the records see it."""
        ...

    async def open(self) -> None:
        """Connect and bring the schema to the current version now rather than on first use."""
        ...

    async def aclose(self) -> None:
        """Release connections; later calls raise `RuntimeError`."""
        ...

    async def load_demo(self) -> bool:
        """Load the demo data (`clinic.demo`) unless there are patients; True if it loaded."""
        ...

    # -- writes: each one transaction; a refused write changes nothing

    async def add_patient(self, full_name: str, date_of_birth: date, phone: str) -> str: ...

    async def add_slot(self, provider: str, starts_at: datetime) -> str: ...

    async def book(self, patient_id: str, slot_id: str) -> str: ...

    async def cancel(self, appointment_id: str) -> Appointment: ...

    async def reschedule(self, appointment_id: str, new_slot_id: str) -> Appointment: ...

    # -- reads

    async def get_patient(self, patient_id: str) -> Patient: ...

    async def get_slot(self, slot_id: str) -> Slot: ...

    async def get_appointment(self, appointment_id: str) -> Appointment: ...

    async def is_slot_open(self, slot_id: str) -> bool: ...

    async def is_on_file(self, phone_e164: str) -> bool:
        """`verification.PhoneDirectory`: is this number on any patient's record?"""
        ...

    async def patients_with_phone(self, phone_e164: str) -> list[Patient]: ...

    async def find_patient(self, full_name: str, date_of_birth: str | date) -> Patient | None:
        """The one patient with exactly this date of birth whose name matches, or None."""
        ...

    async def patients_named(self, full_name: str) -> list[Patient]:
        """Every record whose name matches the spoken name, whatever its date of birth."""
        ...

    async def appointments_for(
        self, patient_id: str, *, include_past: bool = False, include_cancelled: bool = False
    ) -> list[Appointment]: ...

    async def open_slots(
        self,
        *,
        start: date | None = None,
        end: date | None = None,
        provider: str | None = None,
        limit: int = 10,
    ) -> list[Slot]: ...

    async def providers(self) -> list[str]: ...


__all__ = ["ClinicRecords"]
