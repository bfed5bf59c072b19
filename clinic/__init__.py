"""Clinic records for the phone agent: patients, providers, slots and appointments.

`ClinicRecords` (clinic.records) is the protocol the agent and `verification` depend on, and
the seam where a real practice-management system plugs in. `ClinicDB` is the embedded SQLite
implementation (and a `verification.PhoneDirectory`). This package never imports `livekit`
or `agent`.

    from clinic import ClinicDB
    db = ClinicDB.demo("var/clinic.db")          # schema + demo data (see clinic.demo)
    jane = await db.find_patient("jane doe", "April 12th, 1985")
"""

from __future__ import annotations

from . import demo, errors
from .clock import clinic_clock
from .dates import parse_date
from .db import ClinicDB
from .errors import (
    AlreadyCancelled,
    ClinicError,
    InPast,
    NoChange,
    NotFound,
    SlotTaken,
    Unavailable,
)
from .models import Appointment, AppointmentStatus, Patient, Slot
from .names import names_match
from .records import ClinicRecords

__all__ = [
    "AlreadyCancelled",
    "Appointment",
    "AppointmentStatus",
    "ClinicDB",
    "ClinicError",
    "ClinicRecords",
    "InPast",
    "NoChange",
    "NotFound",
    "Patient",
    "Slot",
    "SlotTaken",
    "Unavailable",
    "clinic_clock",
    "demo",
    "errors",
    "names_match",
    "parse_date",
]
