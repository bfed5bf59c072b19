"""One records layer: `ClinicRecords` holds the rules, the backends only their transactions.

A backend is a `clinic.RecordsBackend`; `ClinicRecords` over any of them is the whole public
API. (That the two that ship share no logic is a house rule: tests/test_layering.py.)
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from clinic import ClinicRecords, PostgresRecords, RecordsBackend, SlotTaken
from clinic.postgres import PostgresBackend
from clinic.sqlite import SqliteBackend
from tests.support.records import START, FakeClock


def test_both_backends_are_records_backends(tmp_path: Path) -> None:
    assert isinstance(SqliteBackend(tmp_path / "x.sqlite3"), RecordsBackend)
    assert isinstance(PostgresBackend("postgresql://db/clinic"), RecordsBackend)
    assert isinstance(PostgresRecords("postgresql://db/clinic").backend, RecordsBackend)


async def test_a_backend_is_all_a_new_store_needs(tmp_path: Path) -> None:
    """`ClinicRecords` over a backend handed in is the full records, rules included."""
    records = ClinicRecords(SqliteBackend(tmp_path / "clinic.sqlite3"), clock=FakeClock())
    jane = await records.add_patient("Jane Doe", date(1985, 4, 12), "(415) 555-0123")
    slot = await records.add_slot("Dr. Patel", START + timedelta(days=1))
    await records.book(jane, slot)
    try:
        await records.book(jane, slot)
    except SlotTaken:
        pass
    else:
        raise AssertionError("a taken slot was booked twice")
    assert (await records.get_patient(jane)).phone == "+14155550123"
    await records.aclose()
