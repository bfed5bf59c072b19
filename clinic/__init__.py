"""Clinic records for the phone agent: patients, providers, slots and appointments.

`ClinicRecords` (clinic.records) is the one implementation of the records, and what the agent
and `verification` depend on; under it a `RecordsBackend` (clinic.backend) supplies only its
transactions, which is the seam where a practice-management system plugs in. `ClinicDB` is
the records on SQLite (the embedded default, one machine), `PostgresRecords` on PostgreSQL
(several machines); `open_records(url)` or `open_records(ClinicSettings.from_env(env))` picks
by URL. This package never imports `livekit` or `agent`, and never reads `os.environ`.

    from clinic import ClinicDB
    db = ClinicDB.demo("var/clinic.db")          # schema + demo data (see clinic.demo)
    jane = await db.find_patient("jane doe", "April 12th, 1985")
"""

from __future__ import annotations

from . import demo, errors
from .backend import RecordsBackend
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
from .names import MAX_NAMED_PATIENTS, names_match
from .postgres import PostgresRecords
from .records import ClinicRecords
from .schema import SchemaTooNew
from .settings import ClinicSettings

__all__ = [
    "DEFAULT_DATABASE_URL",
    "MAX_NAMED_PATIENTS",
    "AlreadyCancelled",
    "Appointment",
    "AppointmentStatus",
    "ClinicDB",
    "ClinicError",
    "ClinicRecords",
    "ClinicSettings",
    "InPast",
    "NoChange",
    "NotFound",
    "Patient",
    "PostgresRecords",
    "RecordsBackend",
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
