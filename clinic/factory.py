"""Choosing the records backend by URL, and the warning for a setup that would double-book.

`CLINIC_DATABASE_URL` names the records: `sqlite:///var/clinic.sqlite3` (a relative path;
`sqlite:////srv/clinic.sqlite3` is absolute) for one machine, `postgresql://user:pass@host/db`
for several. Nothing else in the agent needs to know which it got.
"""

from __future__ import annotations

from typing import Final

from verification.env import ConfigurationError

from .clock import Clock
from .db import ClinicDB
from .postgres import DEFAULT_POOL_SIZE, DEFAULT_TIMEOUT_SECONDS, PostgresRecords
from .records import ClinicRecords

DEFAULT_DATABASE_URL: Final = "sqlite:///var/clinic.sqlite3"
_SQLITE_PREFIX: Final = "sqlite:///"
_POSTGRES_SCHEMES: Final = ("postgresql://", "postgres://")


def is_sqlite_url(url: str) -> bool:
    return url.strip().lower().startswith("sqlite:")


def open_records(
    url: str,
    *,
    pool_size: int = DEFAULT_POOL_SIZE,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    clock: Clock | None = None,
) -> ClinicRecords:
    """The records named by `url`; nothing connects until first use (or `await open()`).

    `pool_size` (connections per process) and `timeout` (seconds to wait for a connection, a
    lock or the file) apply to PostgreSQL; `timeout` is SQLite's busy timeout too.
    Raises `ConfigurationError` (one line) for a URL of no known kind.
    """
    text = url.strip()
    lowered = text.lower()
    if lowered.startswith(_SQLITE_PREFIX) and len(text) > len(_SQLITE_PREFIX):
        return ClinicDB(text[len(_SQLITE_PREFIX) :], busy_timeout=timeout, clock=clock)
    if lowered.startswith(_POSTGRES_SCHEMES):
        return PostgresRecords(text, pool_size=pool_size, timeout=timeout, clock=clock)
    raise ConfigurationError(
        "CLINIC_DATABASE_URL must be sqlite:///path/to/file.sqlite3 or"
        " postgresql://user:password@host:5432/database"
    )


def shared_records_warning(database_url: str, *, redis_url: str | None) -> str | None:
    """The warning to log loudly in production when codes are shared but records are not.

    `REDIS_URL` set means several workers (or machines) share the codes; with the records in
    one SQLite file, each machine books from its own copy and double-books. None if fine.
    """
    if redis_url and redis_url.strip() and is_sqlite_url(database_url):
        return (
            "REDIS_URL is set (several workers share the codes) but CLINIC_DATABASE_URL is"
            " SQLite: each machine would book from its own file and double-book. Point"
            " CLINIC_DATABASE_URL at PostgreSQL (postgresql://...) before adding a machine."
        )
    return None


__all__ = ["DEFAULT_DATABASE_URL", "is_sqlite_url", "open_records", "shared_records_warning"]
