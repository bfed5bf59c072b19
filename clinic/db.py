"""`ClinicDB`: the clinic records in one SQLite file, the embedded default.

`ClinicDB(path)` is `clinic.records.ClinicRecords` (every rule, the logging, the errors) on a
`clinic.sqlite.SqliteBackend` (the transactions, on the file's own thread): one machine's
call processes share the file. `ClinicDB.demo(path)` also loads the demo data, synchronously,
for start-up code. For several machines use PostgreSQL (`clinic.open_records`).
"""

from __future__ import annotations

import os
from typing import Self

from .clock import Clock
from .errors import Unavailable
from .records import ClinicRecords
from .sqlite import DEFAULT_BUSY_TIMEOUT_SECONDS, SqliteBackend, sqlite_uri


class ClinicDB(ClinicRecords):
    """The clinic's records in one SQLite file: `ClinicRecords` on a `SqliteBackend`.

    Safe to share between tasks of one process; a forked copy opens its own connection.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
        clock: Clock | None = None,
        default_region: str = "US",
    ) -> None:
        self._sqlite = SqliteBackend(path, busy_timeout=busy_timeout)
        super().__init__(self._sqlite, clock=clock, default_region=default_region)
        self.path = self._sqlite.path
        self.busy_timeout = busy_timeout

    @classmethod
    def demo(
        cls,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
        clock: Clock | None = None,
        default_region: str = "US",
    ) -> Self:
        """Open `path` and load the demo data if the database is empty; return it ready.

        Synchronous on purpose, for start-up code (it blocks for a few milliseconds once).
        Idempotent, also across processes racing to load it. Inside a running event loop,
        prefer `db = ClinicDB(path); await db.load_demo()`.
        """
        db = cls(path, busy_timeout=busy_timeout, clock=clock, default_region=default_region)
        now = db.now()
        try:
            db._demo_loaded(db._sqlite.load_demo_sync(db._demo_plan(now.date()), now=now))
        except Unavailable as exc:
            db._log_outage(exc)
            db.close()
            raise
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        """Synchronous `aclose`, for start-up/shut-down code outside the event loop."""
        self._closed = True
        self._sqlite.close()


__all__ = ["DEFAULT_BUSY_TIMEOUT_SECONDS", "ClinicDB", "sqlite_uri"]
