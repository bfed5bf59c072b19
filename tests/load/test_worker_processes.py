"""Several worker processes sharing one records database and one Redis, as several machines.

Each worker process opens the records and the codes by URL alone (`clinic.open_records`,
`RedisOtpStore.from_url`) and plays its share of many scripted calls at once; callers who
race for one shared slot sit in different processes. Afterwards the same checks as the
one-process load test (`tests/load/checks.py`): every call ended in its own right state, each
shared slot was won exactly once, no slot is booked twice, one text per call. On PostgreSQL
(what several machines use) and, for comparison, on one SQLite file (what one machine's
processes share). Slow: `-m load`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clinic import ClinicRecords, open_records
from tests.support.load_checks import check_run
from tests.support.load_scenario import populate
from tests.support.load_workers import WorkerJob, run_workers, split
from tests.support.postgres import PostgresDatabase

pytestmark = [pytest.mark.load, pytest.mark.redis]

WORKERS = 4
CALLS = 200
SHARED_SLOTS = 5


class Records:
    """A records URL and a way to read that database directly."""

    def __init__(self, url: str, rows: Any) -> None:
        self.url = url
        self.rows = rows


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def records(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Records]:
    if request.param == "sqlite":
        import sqlite3

        path = tmp_path / "clinic.sqlite3"

        def sqlite_rows(query: str) -> list[tuple[Any, ...]]:
            with sqlite3.connect(path) as conn:
                return conn.execute(query).fetchall()

        yield Records(f"sqlite:///{path}", sqlite_rows)
        return
    database: PostgresDatabase = request.getfixturevalue("postgres_database")
    schema = database.fresh_schema()
    yield Records(database.url(schema), lambda query: database.rows(query, schema=schema))
    database.drop_schema(schema)


async def test_worker_processes_share_one_database_and_one_redis(
    records: Records, redis_url: str
) -> None:
    clinic: ClinicRecords = open_records(records.url)
    callers = await populate(clinic, CALLS, shared_slots=SHARED_SLOTS)
    prefix = f"load-{uuid.uuid4().hex[:8]}"
    jobs = [
        WorkerJob(n, records.url, redis_url, prefix, share)
        for n, share in enumerate(split(callers, WORKERS))
    ]
    reports = run_workers(jobs)

    results = [r for report in reports for r in report.results]
    texted = [phone for report in reports for phone in report.texted]
    await check_run(clinic, records.rows, callers, results, texted, shared_slots=SHARED_SLOTS)
    await clinic.aclose()
