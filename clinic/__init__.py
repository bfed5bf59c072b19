"""Clinic records for the phone agent: patients, providers, slots and appointments.

`ClinicRecords` (clinic.records) is the protocol the agent and `verification` depend on, and
the seam where a real practice-management system plugs in. `ClinicDB` is the embedded SQLite
implementation (and a `verification.PhoneDirectory`), `PostgresRecords` the one for several
machines; `open_records(url)` picks by URL. This package never imports `livekit` or `agent`.

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
from .factory import DEFAULT_DATABASE_URL, open_records, shared_records_warning
from .models import Appointment, AppointmentStatus, Patient, Slot
from .names import names_match
from .postgres import PostgresRecords
from .records import ClinicRecords
from .schema import SchemaTooNew

__all__ = [
    "DEFAULT_DATABASE_URL",
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
    "PostgresRecords",
    "SchemaTooNew",
    "Slot",
    "SlotTaken",
    "Unavailable",
    "clinic_clock",
    "demo",
    "errors",
    "names_match",
    "open_records",
    "parse_date",
    "shared_records_warning",
]
