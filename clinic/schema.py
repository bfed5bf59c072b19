"""The records' schema, versioned: every database is brought to the current version on open.

The schema is a list of migrations per backend, applied by `yoyo-migrations`
(`clinic/migrations/sqlite/`, `clinic/migrations/postgresql/`, the same ids in both):

* a fresh database gets every migration: it is created at the current version;
* an older one gets the migrations it lacks (a SQLite file made before migrations existed
  already has the tables of `m0001`, whose statements are all "IF NOT EXISTS");
* a newer one - it has applied a migration this code does not know, because a newer release
  ran against it - is refused with `SchemaTooNew`, one line that says what to do, rather than
  being read or written with the wrong idea of its tables.

Migrations run under yoyo's lock, so many workers starting at once migrate once. The
invariant that matters most lives in the schema itself: a partial unique index allows at
most one booked appointment per slot, so a double booking is impossible even if the code
above it were wrong.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, Literal

from yoyo import get_backend, read_migrations
from yoyo.backends.core.sqlite3 import SQLiteBackend
from yoyo.connections import parse_uri
from yoyo.migrations import MigrationList

from verification.env import ConfigurationError

from .names import name_keys

logger = logging.getLogger(__name__)

Dialect = Literal["sqlite", "postgresql"]

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
MIGRATION_TABLE: Final = "clinic_schema_migrations"
APPLIED_MIGRATIONS: Final = "SELECT migration_hash FROM clinic_schema_migrations"
LOCK_TIMEOUT_SECONDS: Final = 60
SQLITE_BUSY_TIMEOUT_SECONDS: Final = 30.0
# One migration per process at a time; other processes wait on yoyo's lock in the database.
_IN_PROCESS = threading.Lock()


class _SqliteBackend(SQLiteBackend):  # type: ignore[misc]  # yoyo is untyped
    """yoyo's SQLite backend without shared-cache mode (whose locks fail at once instead of
    waiting) and with the records' own pragmas, so a migration waits for a busy file and its
    commits cost what ours cost (WAL, synchronous=NORMAL)."""

    def connect(self, dburi: Any) -> sqlite3.Connection:
        conn = sqlite3.connect(dburi.database, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
        conn.isolation_level = None
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn


def _backend(yoyo_uri: str) -> Any:
    if yoyo_uri.startswith("sqlite:"):
        backend = _SqliteBackend(parse_uri(yoyo_uri), MIGRATION_TABLE)
        backend.init_database()
        return backend
    return get_backend(yoyo_uri, migration_table=MIGRATION_TABLE)


def is_current(applied_hashes: Iterable[str], dialect: Dialect) -> bool:
    """True if exactly this release's migrations are applied (the cheap check on every open)."""
    return set(applied_hashes) == {m.hash for m in _migrations(dialect)}


class SchemaTooNew(ConfigurationError):
    """The database was migrated by a newer release than this one; refuse to touch it."""


@functools.cache
def _migrations(dialect: Dialect) -> Any:
    return read_migrations(str(MIGRATIONS_DIR / dialect))


def migration_ids(dialect: Dialect) -> list[str]:
    """The ids of this release's migrations, oldest first (the last one is the version)."""
    return [m.id for m in _migrations(dialect)]


def current_version(dialect: Dialect) -> str:
    return migration_ids(dialect)[-1]


def migrate(yoyo_uri: str, dialect: Dialect, *, where: str, up_to: str | None = None) -> list[str]:
    """Bring the database at `yoyo_uri` to the current version; return the ids applied.

    Blocking: run it on the records' thread (SQLite) or in a worker thread (PostgreSQL).
    `where` names the database in messages (never with a password). `up_to` stops after that
    migration id (to stage an upgrade, or to make an older database in a test).
    """
    with _IN_PROCESS:
        return _migrate(yoyo_uri, dialect, where=where, up_to=up_to)


def _migrate(yoyo_uri: str, dialect: Dialect, *, where: str, up_to: str | None) -> list[str]:
    known = {m.hash for m in _migrations(dialect)}
    migrations = _migrations(dialect)
    if up_to is not None:
        ids = migration_ids(dialect)
        if up_to not in ids:
            raise ValueError(f"no migration {up_to!r} (known: {', '.join(ids)})")
        migrations = MigrationList(migrations[: ids.index(up_to) + 1])
    with _backend(yoyo_uri) as backend:
        applied = backend.get_applied_migration_hashes()
        if any(h not in known for h in applied):
            raise SchemaTooNew(
                f"the clinic records at {where} were migrated by a newer release than this one"
                f" (this one knows up to {current_version(dialect)}); upgrade the agent, or point"
                " CLINIC_DATABASE_URL at a database of this release"
            )
        if not backend.to_apply(migrations):
            return []
        with backend.lock(timeout=LOCK_TIMEOUT_SECONDS):
            pending = backend.to_apply(migrations)  # another worker may have just done it
            backend.apply_migrations(pending)
    applied_ids = [m.id for m in pending]
    if applied_ids:
        logger.info("clinic schema migrated", extra={"migrations": applied_ids, "db": where})
    return applied_ids


# m0002, in each dialect's words: the name-key table, and how to add a key once.
_NAME_KEYS_TABLE: Final[dict[Dialect, str]] = {
    "sqlite": "part TEXT NOT NULL CHECK (part IN ('F', 'L')), {rest}) WITHOUT ROWID",
    "postgresql": "part CHAR(1) NOT NULL CHECK (part IN ('F', 'L')), {rest})",
}
_ADD_NAME_KEY: Final[dict[Dialect, str]] = {
    "sqlite": "INSERT OR IGNORE INTO patient_name_keys (patient_id, part, key) VALUES (?, ?, ?)",
    "postgresql": "INSERT INTO patient_name_keys (patient_id, part, key) VALUES (%s, %s, %s)"
    " ON CONFLICT DO NOTHING",
}


def add_name_keys(conn: Any, dialect: Dialect) -> None:
    """Migration m0002 on a DB-API connection: index patients by name (`name_key_rows`), so a
    lookup by name reads only the records that could match, and backfill the patients on file."""
    cursor = conn.cursor()
    columns = "key TEXT NOT NULL, patient_id TEXT NOT NULL REFERENCES patients (id),"
    table = _NAME_KEYS_TABLE[dialect].format(rest=columns + " PRIMARY KEY (part, key, patient_id)")
    cursor.execute("CREATE TABLE IF NOT EXISTS patient_name_keys (" + table)
    cursor.execute("SELECT id, full_name FROM patients")
    for patient_id, full_name in cursor.fetchall():
        cursor.executemany(_ADD_NAME_KEY[dialect], name_key_rows(patient_id, full_name))


def name_key_rows(patient_id: str, full_name: str) -> list[tuple[str, str, str]]:
    """(patient_id, part, key) rows for `patient_name_keys`: part "F" first name, "L" last."""
    keys = name_keys(full_name)
    return [(patient_id, "F", k) for k in sorted(keys.first)] + [
        (patient_id, "L", k) for k in sorted(keys.last)
    ]


__all__ = [
    "APPLIED_MIGRATIONS",
    "LOCK_TIMEOUT_SECONDS",
    "MIGRATIONS_DIR",
    "MIGRATION_TABLE",
    "Dialect",
    "SchemaTooNew",
    "add_name_keys",
    "current_version",
    "is_current",
    "migrate",
    "migration_ids",
    "name_key_rows",
]
