"""One records layer: `ClinicRecords` holds the rules, the backends only their transactions.

A backend is a `clinic.RecordsBackend`; `ClinicRecords` over any of them is the whole public
API. The two that ship share no logic: no run of six identical lines stands in both.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from clinic import ClinicRecords, PostgresRecords, RecordsBackend, SlotTaken
from clinic.postgres import PostgresBackend
from clinic.sqlite import SqliteBackend
from tests.support.records import START, FakeClock

CLINIC = Path(__file__).resolve().parents[2] / "clinic"
BACKEND_MODULES = ("sqlite.py", "postgres.py", "postgres_sql.py", "postgres_pool.py")
RUN = 6


def _runs(path: Path) -> Iterator[tuple[str, ...]]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    for start in range(len(lines) - RUN + 1):
        window = tuple(lines[start : start + RUN])
        if sum(len(line) > 3 for line in window) == RUN:  # not a run of brackets
            yield window


def test_the_backends_share_no_six_lines() -> None:
    sqlite = set(_runs(CLINIC / "sqlite.py"))
    for other in BACKEND_MODULES[1:]:
        shared = sqlite & set(_runs(CLINIC / other))
        assert shared == set(), (other, sorted(shared)[:1])


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
