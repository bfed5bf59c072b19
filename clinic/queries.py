"""The SELECT heads both record backends share (no placeholders, so the SQL is the same on
SQLite and PostgreSQL); each backend adds its own WHERE clauses and parameter style."""

from __future__ import annotations

from typing import Final

PATIENT_SELECT: Final = "SELECT id, full_name, date_of_birth, phone FROM patients"
APPOINTMENT_SELECT: Final = """
SELECT a.id, a.patient_id, a.slot_id, p.name, s.starts_at, a.status
FROM appointments AS a
JOIN slots AS s ON s.id = a.slot_id
JOIN providers AS p ON p.id = s.provider_id
"""
SLOT_SELECT: Final = """
SELECT s.id, p.name, s.starts_at
FROM slots AS s
JOIN providers AS p ON p.id = s.provider_id
"""
