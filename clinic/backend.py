"""`RecordsBackend`: the transactions a records backend supplies, and nothing else.

`clinic.records.ClinicRecords` is the one implementation of the clinic records: it
normalises ids, parses phone numbers once (with the clinic's region), applies the booking
rules (`clinic.rules`), matches names, logs, and turns what a backend read into the
`ClinicError` the caller hears. Under it, a backend only moves rows: each method here is one
transaction (or one read) against its store. Two ship with the project: SQLite
(`clinic.sqlite.SqliteBackend`, one machine) and PostgreSQL (`clinic.postgres.PostgresBackend`,
several machines). A third, such as a clinic's practice-management system, is a class with
these methods, wrapped as `ClinicRecords(MyBackend(...))`; it writes transactions, not rules.

What every backend must guarantee (the records suite, `tests/clinic/`, checks each one):

* **Atomic writes.** `book`, `cancel` and `reschedule` each read the rows they decide on,
  holding whatever lock keeps them from changing (a row lock, a file lock, the practice
  system's own conflict check), and write only when the matching `clinic.rules` function
  (`booking_refusal`, `cancel_refusal`, `move_refusal`) finds nothing to refuse in what they
  read at `now`. They return what they read and what they wrote (None: nothing); they never
  raise a rule's error themselves, so a refusal leaves the records exactly as they were.
* **One booking per slot**, whoever races for it: a booking or a move that finds the slot
  taken, or loses the race for it, writes nothing and says it saw the slot taken (or writes
  nothing at all, which `ClinicRecords` also reports as `SlotTaken`).
* **Outages are `clinic.errors.Unavailable`**, raised from the driver's error, and nothing
  else; `ClinicRecords` logs them.
* **Numbers are compared as given.** Phones arrive in E.164, parsed once where they came in.
* **Naive clinic-local times** in and out; ids from `clinic.ids` (fresh ones drawn there).
* **Name lookups go through the name keys** (`clinic.names.name_keys`, stored with each
  patient as `clinic.schema.name_key_rows` lays them out), in id order, bounded by `limit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, runtime_checkable

from verification.phone import E164

from .models import Appointment, AppointmentStatus, Patient, Slot
from .names import NameKeys
from .rules import BookingSeen, MoveSeen, SlotWindow


@dataclass(frozen=True, slots=True)
class NewPatient:
    """A patient to add: the name as stored (`rules.clean_patient_name`), E.164 phone."""

    full_name: str
    date_of_birth: date
    phone: E164


@dataclass(frozen=True, slots=True)
class DemoPlan:
    """The demo data laid out for `day`: who, which slots, and which of them are booked."""

    day: date
    patients: tuple[NewPatient, ...]
    slots: tuple[tuple[str, datetime], ...]  # (provider, starts_at)
    bookings: tuple[tuple[int, tuple[str, datetime]], ...]  # (index in patients, slot)


@runtime_checkable
class RecordsBackend(Protocol):
    """Where the records are kept; see the module docstring for what each method promises."""

    @property
    def where(self) -> str:
        """The store, for logs and messages (a path, or host:port/db; never a password)."""
        ...

    async def open(self) -> None:
        """Connect and bring the schema to the current version now rather than on first use."""
        ...

    async def aclose(self) -> None: ...

    # -- writes: one transaction each

    async def add_patient(self, patient: NewPatient, *, now: datetime) -> str: ...

    async def add_slot(self, provider: str, starts_at: datetime) -> str:
        """The slot's id; the existing one if that provider already has that time."""
        ...

    async def book(
        self, patient_id: str, slot_id: str, *, now: datetime
    ) -> tuple[BookingSeen, str | None]:
        """What the booking read, and the new appointment's id (None: nothing written)."""
        ...

    async def cancel(
        self, appointment_id: str, *, now: datetime
    ) -> tuple[Appointment | None, bool]:
        """The appointment as read (None: no such id), and whether it was cancelled."""
        ...

    async def reschedule(
        self, appointment_id: str, new_slot_id: str, *, now: datetime
    ) -> tuple[MoveSeen, bool]:
        """What the move read, and whether the appointment moved."""
        ...

    async def load_demo(self, plan: DemoPlan, *, now: datetime) -> bool:
        """Write the plan in one transaction unless there are patients (or it was loaded
        before); once, whoever races. True if this call loaded it."""
        ...

    # -- reads

    async def patient(self, patient_id: str) -> Patient | None: ...

    async def slot(self, slot_id: str) -> tuple[Slot, bool] | None:
        """The slot and whether it has a booked appointment; None if there is no such slot."""
        ...

    async def appointment(self, appointment_id: str) -> Appointment | None: ...

    async def phone_on_file(self, phone: E164) -> bool: ...

    async def patients_with_phone(self, phone: E164) -> list[Patient]:
        """Every patient with this number, ordered by name, then id."""
        ...

    async def patients_by_name_keys(
        self, keys: NameKeys, *, date_of_birth: date | None, after_id: str, limit: int
    ) -> list[Patient]:
        """Patients whose first and last name parts each share a key with `keys` (and with
        this date of birth, if given), with ids greater than `after_id`, in id order."""
        ...

    async def appointments_for(
        self, patient_id: str, *, after: datetime | None, statuses: Sequence[AppointmentStatus]
    ) -> list[Appointment]:
        """The patient's appointments starting after `after` (None: any time) with one of
        these statuses, in time order, then id."""
        ...

    async def open_slots(
        self, window: SlotWindow, provider_ids: Sequence[int] | None
    ) -> list[Slot]:
        """Slots in the window with no booked appointment (of these providers, if given),
        ordered by time, then provider; at most `window.limit`."""
        ...

    async def providers(self) -> list[tuple[int, str]]:
        """Every provider as (id, name)."""
        ...


__all__ = ["DemoPlan", "NewPatient", "RecordsBackend"]
