"""One SQLite connection on one private thread: how every SQLite file here is used from asyncio.

sqlite3 blocks, so nothing may call it on the event loop (security rule 9). Each user (the
code store, the clinic records) owns one `SqliteThread`: one connection, opened lazily on a
single worker thread, and every piece of SQL is handed to that thread. Writes run inside
`BEGIN IMMEDIATE`, which takes the file's write lock up front, so two processes never both
read "free" and then both write.

A process forked after the connection opened (LiveKit forks job processes) must neither use
nor close the parent's connection (SQLite forbids carrying one across fork): the child
notices the new pid, leaves the inherited connection alone and opens its own.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

Setup = Callable[[sqlite3.Connection], None]


class SqliteThread:
    """A lazily opened SQLite connection that lives on its own worker thread.

    `setup(conn)` runs once per connection, on the worker thread, after the pragmas (WAL,
    synchronous=NORMAL, foreign keys): create or migrate the schema there. `sqlite3.Error`
    reaches the caller unchanged; each user turns it into its own "unavailable" error.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        setup: Setup,
        busy_timeout: float = 5.0,
        thread_name: str = "sqlite",
    ) -> None:
        if busy_timeout < 0:
            raise ValueError("busy_timeout must be >= 0 seconds")
        self.path = os.fspath(path)
        self.busy_timeout = busy_timeout
        self._setup = setup
        self._thread_name = thread_name
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None  # touched only on the worker thread
        self._inherited: list[sqlite3.Connection] = []  # fork leftovers, never closed here
        self._closed = False

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` on the worker thread (autocommit: for reads and for DDL)."""
        executor = self._get_executor()
        return await asyncio.get_running_loop().run_in_executor(executor, self._call, fn)

    async def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` inside one `BEGIN IMMEDIATE` transaction: all of it commits, or none."""
        return await self.run(lambda conn: _in_transaction(conn, fn))

    def run_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`run` for start-up code outside an event loop (it blocks until done)."""
        return self._get_executor().submit(self._call, fn).result()

    async def aclose(self) -> None:
        """Close the connection and stop the thread; later calls raise `RuntimeError`."""
        executor = self._take_executor()
        if executor is not None:
            await asyncio.get_running_loop().run_in_executor(executor, self._close_connection)
            executor.shutdown(wait=False)

    def close(self) -> None:
        """Synchronous `aclose`, for code outside the event loop."""
        executor = self._take_executor()
        if executor is not None:
            executor.submit(self._close_connection).result()
            executor.shutdown(wait=True)

    # -- on the worker thread -------------------------------------------------------------

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return fn(self._connection())

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            uri = self.path.startswith("file:")
            if self.path != ":memory:" and not uri:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,  # BEGIN / COMMIT are ours
                check_same_thread=False,  # opened and used on the worker thread only
                uri=uri,
            )
            try:
                self._enable_wal(conn)
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.execute("PRAGMA foreign_keys = ON")
                self._setup(conn)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL, waiting up to `busy_timeout` for other openers.

        Changing the journal mode can answer "database is locked" at once, without SQLite's
        busy handler, while another process creates or migrates the same new file; so it is
        retried here (on the worker thread, where sleeping blocks no one).
        """
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def _close_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- thread ownership -----------------------------------------------------------------

    def _get_executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self._thread_name} database is closed")
            if self._pid != os.getpid():
                if self._conn is not None:
                    self._inherited.append(self._conn)
                self._conn = None
                self._executor = None
                self._pid = os.getpid()
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix=self._thread_name
                )
            return self._executor

    def _take_executor(self) -> ThreadPoolExecutor | None:
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
            return executor if self._pid == os.getpid() else None


def _in_transaction(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    with immediate(conn):
        return fn(conn)


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """`BEGIN IMMEDIATE` ... `COMMIT`, rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
