"""Choosing the records backend by URL (or by `ClinicSettings`), and the warning for a setup
that would double-book.

`CLINIC_DATABASE_URL` names the records: `sqlite:///var/clinic.sqlite3` (a relative path;
`sqlite:////srv/clinic.sqlite3` is absolute) for one machine, `postgresql://user:pass@host/db`
for several. Nothing else in the agent needs to know which it got: both are `ClinicRecords`.
"""

from __future__ import annotations

from .clock import Clock
from .db import ClinicDB
from .postgres import PostgresRecords
from .records import ClinicRecords
from .settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_POOL_SIZE,
    DEFAULT_TIMEOUT_SECONDS,
    SQLITE_PREFIX,
    ClinicSettings,
    is_sqlite_url,
)


def open_records(
    source: str | ClinicSettings,
    *,
    pool_size: int | None = None,
    timeout: float | None = None,
    clock: Clock | None = None,
    default_region: str | None = None,
) -> ClinicRecords:
    """The records named by a URL or by `ClinicSettings`; nothing connects until first use
    (or `await open()`).

    With a URL, `pool_size` (PostgreSQL connections per process, default 4), `timeout`
    (seconds to wait for a connection, a lock or the file; SQLite's busy timeout too; default
    5) and `default_region` (how `add_patient` reads a number, default "US") apply; settings
    carry their own, so they are not combined with these. `clock` defaults to the settings'
    time zone (with a URL: the machine's). Raises `ConfigurationError` (one line) for a URL
    of no known kind.
    """
    if isinstance(source, ClinicSettings):
        if (pool_size, timeout, default_region) != (None, None, None):
            raise TypeError("open_records(settings) takes its pool, timeout and region from them")
        settings = source
    else:
        settings = ClinicSettings(
            database_url=source,
            pool_size=DEFAULT_POOL_SIZE if pool_size is None else pool_size,
            timeout_seconds=DEFAULT_TIMEOUT_SECONDS if timeout is None else timeout,
            default_region=default_region or "US",
        )
    url, region = settings.database_url, settings.default_region
    when = clock if clock is not None else settings.clock()
    if settings.on_sqlite:
        path = url[len(SQLITE_PREFIX) :]
        return ClinicDB(
            path, busy_timeout=settings.timeout_seconds, clock=when, default_region=region
        )
    return PostgresRecords(
        url,
        pool_size=settings.pool_size,
        timeout=settings.timeout_seconds,
        clock=when,
        default_region=region,
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
