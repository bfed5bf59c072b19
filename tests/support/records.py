"""The clinic records test kit: the two backends as the records suite sees them, and a clock.

A `Backend` builds records on one real database (a SQLite file, or a schema of the session's
PostgreSQL database), and reads or writes that database directly, bypassing the records, so
assertions see what is really stored. SQL here uses `?` placeholders on both. `FakeClock` is
clinic-local "now" that a test moves by hand, starting at `START`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from clinic import ClinicDB, ClinicRecords, PostgresRecords
from clinic.clock import Clock
from tests.support.postgres import PostgresDatabase

Rows = list[tuple[Any, ...]]

# A Monday morning, well in the future so every "future" check is about our clock, not the
# real one (the cross-process race test, in other processes, uses the real clock instead).
START = datetime(2030, 1, 7, 8, 0)


class FakeClock:
    """Clinic-local "now" that tests move by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class Backend(Protocol):
    name: str
    url: str
    integrity_error: type[Exception]

    def new(
        self, *, clock: Clock | None = None, timeout: float = 5.0, default_region: str = "US"
    ) -> ClinicRecords: ...

    def rows(self, query: str, params: tuple[Any, ...] = ()) -> Rows: ...

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> None: ...

    def hold_write_lock(self) -> Any:
        """A context in which another client holds what every booking must wait for."""
        ...


def snapshot(backend: Backend) -> tuple[Rows, ...]:
    return (
        backend.rows("SELECT * FROM appointments ORDER BY id"),
        backend.rows("SELECT * FROM appointment_events ORDER BY id"),
        backend.rows("SELECT * FROM slots ORDER BY id"),
    )


class SqliteFile:
    name = "sqlite"
    integrity_error: type[Exception] = sqlite3.IntegrityError

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"

    def new(
        self, *, clock: Clock | None = None, timeout: float = 5.0, default_region: str = "US"
    ) -> ClinicRecords:
        return ClinicDB(self.path, clock=clock, busy_timeout=timeout, default_region=default_region)

    def rows(self, query: str, params: tuple[Any, ...] = ()) -> Rows:
        conn = sqlite3.connect(self.path)
        try:
            return conn.execute(query, params).fetchall()
        finally:
            conn.close()

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> None:
        conn = sqlite3.connect(self.path)
        try:
            with conn:
                conn.execute(query, params)
        finally:
            conn.close()

    @contextmanager
    def hold_write_lock(self) -> Iterator[None]:
        blocker = sqlite3.connect(self.path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another call process holding the write lock
        try:
            yield
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()


class PostgresSchema:
    name = "postgresql"

    def __init__(self, database: PostgresDatabase, schema: str) -> None:
        import psycopg

        self.integrity_error: type[Exception] = psycopg.IntegrityError
        self.database = database
        self.schema = schema
        self.url = database.url(schema)

    def new(
        self, *, clock: Clock | None = None, timeout: float = 5.0, default_region: str = "US"
    ) -> ClinicRecords:
        return PostgresRecords(
            self.url, clock=clock, timeout=timeout, default_region=default_region
        )

    def rows(self, query: str, params: tuple[Any, ...] = ()) -> Rows:
        return self.database.rows(query.replace("?", "%s"), params, schema=self.schema)

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> None:
        self.database.execute(query.replace("?", "%s"), params, schema=self.schema)

    async def waiting_on_a_lock(self, application: str) -> int:
        """The server pid of the connection named `application` once it waits on a lock."""
        for _ in range(200):
            rows = self.rows(
                "SELECT pid FROM pg_stat_activity WHERE application_name = ?"
                " AND wait_event_type = 'Lock'",
                (application,),
            )
            if rows:
                return int(rows[0][0])
            await asyncio.sleep(0.025)
        raise AssertionError(f"{application} never waited on a lock")

    @contextmanager
    def hold_write_lock(self) -> Iterator[None]:
        import psycopg

        with psycopg.connect(self.url) as blocker:  # one transaction until the block ends
            blocker.execute("LOCK TABLE slots, appointments IN EXCLUSIVE MODE")
            yield
            blocker.rollback()
