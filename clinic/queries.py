"""The SELECT heads every SQL backend shares (no placeholders, so the SQL is the same on
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
_SLOT_FROM: Final = """
FROM slots AS s
JOIN providers AS p ON p.id = s.provider_id
"""
SLOT_BOOKED: Final = (
    "EXISTS (SELECT 1 FROM appointments AS b WHERE b.slot_id = s.id AND b.status = 'booked')"
)
SLOT_SELECT: Final = "SELECT s.id, p.name, s.starts_at" + _SLOT_FROM
# A slot and whether it has a booked appointment (the fourth column).
SLOT_WITH_BOOKING: Final = f"SELECT s.id, p.name, s.starts_at, {SLOT_BOOKED}" + _SLOT_FROM
