"""The records the agent sees: immutable snapshots, never live rows.

Times are naive `datetime`s in the clinic's local wall-clock time (what a receptionist would
say on the phone); see `clinic.db` for how "now" is obtained.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

AppointmentStatus = Literal["booked", "cancelled"]


@dataclass(frozen=True, slots=True)
class Patient:
    """A patient record. `phone` is E.164 ("+14155550123")."""

    id: str
    full_name: str
    date_of_birth: date
    phone: str


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable time with one provider; `starts_at` is naive clinic-local time."""

    id: str
    provider: str
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class Appointment:
    """A patient's booking of a slot. Rescheduling keeps `id` and changes `slot_id`."""

    id: str
    patient_id: str
    slot_id: str
    provider: str
    starts_at: datetime
    status: AppointmentStatus

    @property
    def is_booked(self) -> bool:
        return self.status == "booked"


__all__ = ["Appointment", "AppointmentStatus", "Patient", "Slot"]
