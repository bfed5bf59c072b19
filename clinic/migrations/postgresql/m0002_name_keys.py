"""Index patients by name (clinic.names.name_keys), so a lookup by name reads only the records
that could match, and backfill the keys of the patients already on file."""

from __future__ import annotations

from typing import Any

from yoyo import step

from clinic.schema import name_key_rows

__depends__ = {"m0001_initial"}


def create_and_backfill(conn: Any) -> None:
    cursor = conn.cursor()
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS patient_name_keys ("
        " part CHAR(1) NOT NULL CHECK (part IN ('F', 'L')),"
        " key TEXT NOT NULL,"
        " patient_id TEXT NOT NULL REFERENCES patients (id),"
        " PRIMARY KEY (part, key, patient_id))"
    )
    cursor.execute("SELECT id, full_name FROM patients")
    for patient_id, full_name in cursor.fetchall():
        cursor.executemany(
            "INSERT INTO patient_name_keys (patient_id, part, key) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            name_key_rows(patient_id, full_name),
        )


steps = [step(create_and_backfill)]
