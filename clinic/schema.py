"""The records' tables, and how a database is brought to the current version.

The invariant that matters most lives in the schema itself: a partial unique index allows at
most one booked appointment per slot, so a double booking is impossible even if the code above
it were wrong.
"""

from __future__ import annotations

import sqlite3
from typing import Final

SCHEMA_VERSION: Final = "1"

SQLITE_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS providers (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE
);
CREATE TABLE IF NOT EXISTS patients (
    id            TEXT PRIMARY KEY,
    full_name     TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    phone         TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS patients_by_dob ON patients (date_of_birth);
CREATE INDEX IF NOT EXISTS patients_by_phone ON patients (phone);
CREATE TABLE IF NOT EXISTS slots (
    id          TEXT PRIMARY KEY,
    provider_id INTEGER NOT NULL REFERENCES providers (id),
    starts_at   TEXT NOT NULL,
    UNIQUE (provider_id, starts_at)
);
CREATE INDEX IF NOT EXISTS slots_by_time ON slots (starts_at);
CREATE TABLE IF NOT EXISTS appointments (
    id         TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients (id),
    slot_id    TEXT NOT NULL REFERENCES slots (id),
    status     TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS appointments_by_patient ON appointments (patient_id);
-- The invariant that matters most: a slot has at most one booked appointment.
CREATE UNIQUE INDEX IF NOT EXISTS one_booking_per_slot
    ON appointments (slot_id) WHERE status = 'booked';
CREATE TABLE IF NOT EXISTS appointment_events (
    id               INTEGER PRIMARY KEY,
    appointment_id   TEXT NOT NULL REFERENCES appointments (id),
    at               TEXT NOT NULL,
    action           TEXT NOT NULL CHECK (action IN ('booked', 'cancelled', 'rescheduled')),
    slot_id          TEXT NOT NULL,
    previous_slot_id TEXT
);
"""


def create_sqlite_schema(conn: sqlite3.Connection) -> None:
    """Create the tables if missing (runs on the records' thread, inside BEGIN IMMEDIATE)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in SQLITE_SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
            (SCHEMA_VERSION,),
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


__all__ = ["SCHEMA_VERSION", "SQLITE_SCHEMA", "create_sqlite_schema"]
