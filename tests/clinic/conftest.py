"""Fixtures for the clinic tests: each records test runs on both backends.

`db` / `demo_db` are the records on a real SQLite file and on a real PostgreSQL server (a
schema migrated once per session, emptied before each test); `backend` reaches the same
database directly. `sqlite_db` is for the few tests about SQLite itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from clinic import ClinicDB, ClinicRecords
from clinic.postgres import yoyo_uri
from clinic.schema import migrate
from tests.support.postgres import PostgresDatabase
from tests.support.records import Backend, FakeClock, PostgresSchema, SqliteFile

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "clinic.db"


@pytest.fixture(scope="session")
def postgres_records_schema(postgres_database: PostgresDatabase) -> Iterator[str]:
    """One schema of the session's database, migrated once."""
    schema = postgres_database.fresh_schema()
    migrate(yoyo_uri(postgres_database.url(schema)), "postgresql", where=schema)
    yield schema
    postgres_database.drop_schema(schema)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, db_path: Path) -> Backend:
    if request.param == "sqlite":
        return SqliteFile(db_path)
    database: PostgresDatabase = request.getfixturevalue("postgres_database")
    schema: str = request.getfixturevalue("postgres_records_schema")
    database.truncate(schema)
    return PostgresSchema(database, schema)


@pytest.fixture
def pg(postgres_database: PostgresDatabase, postgres_records_schema: str) -> PostgresSchema:
    """The PostgreSQL backend alone (for the tests about PostgreSQL itself), emptied."""
    postgres_database.truncate(postgres_records_schema)
    return PostgresSchema(postgres_database, postgres_records_schema)


@pytest.fixture(params=BACKENDS)
def blank_backend(request: pytest.FixtureRequest, db_path: Path) -> Iterator[Backend]:
    """A database with nothing in it yet, not even a schema (for the migration tests)."""
    if request.param == "sqlite":
        yield SqliteFile(db_path)
        return
    database: PostgresDatabase = request.getfixturevalue("postgres_database")
    schema = database.fresh_schema()
    yield PostgresSchema(database, schema)
    database.drop_schema(schema)


@pytest.fixture
async def db(backend: Backend, clock: FakeClock) -> AsyncIterator[ClinicRecords]:
    records = backend.new(clock=clock)
    yield records
    await records.aclose()


@pytest.fixture
async def demo_db(backend: Backend, clock: FakeClock) -> AsyncIterator[ClinicRecords]:
    records = backend.new(clock=clock)
    await records.load_demo()
    yield records
    await records.aclose()


@pytest.fixture
async def sqlite_db(db_path: Path, clock: FakeClock) -> AsyncIterator[ClinicDB]:
    database = ClinicDB(db_path, clock=clock)
    yield database
    await database.aclose()
