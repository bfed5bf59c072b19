"""The versioned schema, on both backends: fresh -> current, older -> upgraded, newer -> refused."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from clinic import SchemaTooNew
from clinic.db import sqlite_uri
from clinic.postgres import yoyo_uri
from clinic.schema import MIGRATIONS_DIR, Dialect, migrate, migration_ids
from tests.support.records import START, Backend, SqliteFile


def _dialect(backend: Backend) -> Dialect:
    return "sqlite" if backend.name == "sqlite" else "postgresql"


def _yoyo(backend: Backend) -> str:
    if isinstance(backend, SqliteFile):
        return sqlite_uri(str(backend.path))
    return yoyo_uri(backend.url)


def _applied(backend: Backend) -> list[str]:
    rows = backend.rows("SELECT migration_id FROM clinic_schema_migrations ORDER BY migration_id")
    return [str(r[0]) for r in rows]


def _insert_raw_patient(backend: Backend, name: str) -> None:
    backend.execute(
        "INSERT INTO patients (id, full_name, date_of_birth, phone, created_at)"
        " VALUES ('PRAW22', ?, ?, '+14155550123', ?)",
        (name, "1985-04-12", START.isoformat()),
    )


async def test_a_fresh_database_is_created_at_the_current_version(blank_backend: Backend) -> None:
    records = blank_backend.new()
    await records.open()
    assert _applied(blank_backend) == migration_ids(_dialect(blank_backend))
    assert await records.add_patient("Jane Doe", date(1985, 4, 12), "+14155550123")
    await records.aclose()


async def test_an_older_database_is_upgraded_and_keeps_its_records(
    blank_backend: Backend,
) -> None:
    migrate(_yoyo(blank_backend), _dialect(blank_backend), where="test", up_to="m0001_initial")
    _insert_raw_patient(blank_backend, "Jane Doe")
    assert _applied(blank_backend) == ["m0001_initial"]

    records = blank_backend.new()
    named = await records.patients_named("Jayne Doe")  # needs m0002's index, backfilled
    assert [p.id for p in named] == ["PRAW22"]
    assert _applied(blank_backend) == migration_ids(_dialect(blank_backend))
    await records.aclose()


async def test_a_file_from_before_migrations_is_adopted(db_path: Path) -> None:
    """The first release created its tables without a migration tool; they are kept as they are."""
    backend = SqliteFile(db_path)
    conn = sqlite3.connect(backend.path)
    conn.executescript((MIGRATIONS_DIR / "sqlite" / "m0001_initial.sql").read_text())
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
    conn.commit()
    conn.close()
    _insert_raw_patient(backend, "Jane Doe")

    records = backend.new()
    found = await records.find_patient("jane doe", "April 12, 1985")
    assert found is not None and found.id == "PRAW22"
    assert _applied(backend) == migration_ids("sqlite")
    assert backend.rows("SELECT key FROM meta") == []
    await records.aclose()


async def test_a_newer_database_is_refused_in_one_line(blank_backend: Backend) -> None:
    records = blank_backend.new()
    await records.open()
    await records.aclose()
    blank_backend.execute(
        "INSERT INTO clinic_schema_migrations (migration_hash, migration_id, applied_at_utc)"
        " VALUES (?, 'm0099_from_a_newer_release', ?)",
        ("f" * 64, START.isoformat()),
    )
    newer = blank_backend.new()
    with pytest.raises(SchemaTooNew) as err:
        await newer.open()
    message = str(err.value)
    assert "\n" not in message
    assert "newer release" in message and "CLINIC_DATABASE_URL" in message
    assert "postgres@" not in message  # no credentials in the line
    with pytest.raises(SchemaTooNew):
        await newer.find_patient("Jane Doe", date(1985, 4, 12))  # refused, not read
    await newer.aclose()


async def test_many_workers_migrate_a_fresh_database_once(blank_backend: Backend) -> None:
    workers = [blank_backend.new() for _ in range(4)]
    await asyncio.gather(*(w.open() for w in workers))
    assert _applied(blank_backend) == migration_ids(_dialect(blank_backend))
    for worker in workers:
        await worker.aclose()


def test_migrating_to_an_unknown_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="m0042"):
        migrate(sqlite_uri(f"{tmp_path}/x.db"), "sqlite", where="x", up_to="m0042")
