"""`RecordsPool`: the PostgreSQL backend's connections, one pool per process.

Connections come from a `psycopg_pool.AsyncConnectionPool`, in autocommit (each statement is
its own transaction; the few writes of several statements open one). One that sat idle is
pinged before use, so a server restart or failover between calls costs no call; one in use a
moment ago is not, so a busy line pays no extra round trip. Every wait - for a connection, a
lock or a statement - is bounded by `timeout`, after which the caller hears `Unavailable`.
The schema is migrated when the pool first opens (`clinic.schema`, yoyo, in a worker thread).
A forked child builds its own pool and leaves the parent's sockets be.
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from .errors import Unavailable
from .schema import APPLIED_MIGRATIONS, is_current, migrate

Conn = AsyncConnection[tuple[Any, ...]]

# A pooled connection idle this long is pinged before use (one round trip); busier ones not.
DEFAULT_IDLE_CHECK_SECONDS: Final = 2.0


def yoyo_uri(url: str) -> str:
    """The URL as yoyo names psycopg 3's backend."""
    scheme, rest = url.split("://", 1)
    return "postgresql+psycopg://" + rest if scheme in ("postgresql", "postgres") else url


def describe(url: str) -> str:
    """host:port/dbname, for logs and messages (never the user's password)."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(unparsable URL)"
    host = parts.get("host", "localhost")
    port = parts.get("port", "5432")
    return f"postgresql://{host}:{port}/{parts.get('dbname', '')}"


class RecordsPool:
    """The pool of one process, opened (and the schema migrated) on first use."""

    def __init__(
        self,
        url: str,
        *,
        size: int,
        timeout: float,
        idle_check_seconds: float = DEFAULT_IDLE_CHECK_SECONDS,
    ) -> None:
        if size < 1:
            raise ValueError("pool_size must be at least 1")
        if timeout <= 0:
            raise ValueError("timeout must be > 0 seconds")
        self.url = url
        self.where = describe(url)
        self.size = size
        self.timeout = timeout
        self.idle_check_seconds = idle_check_seconds
        self._idle_since: weakref.WeakKeyDictionary[Conn, float] = weakref.WeakKeyDictionary()
        self._pool: AsyncConnectionPool[Conn] | None = None
        self._pid = os.getpid()
        self._opening = asyncio.Lock()
        self._closed = False

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Conn]:
        """A pooled connection; any failure to reach or use the server is `Unavailable`."""
        try:
            pool = await self.ready()
            async with pool.connection() as conn:
                yield conn
        except (psycopg.Error, PoolTimeout) as exc:
            raise Unavailable() from exc

    async def aclose(self) -> None:
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None and self._pid == os.getpid():
            await pool.close()

    async def ready(self) -> AsyncConnectionPool[Conn]:
        if self._closed:
            raise RuntimeError("PostgresRecords is closed")
        if self._pid != os.getpid():  # a forked child: the parent's sockets are not ours
            self._pool, self._pid, self._opening = None, os.getpid(), asyncio.Lock()
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._pool is None:
                pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self.size,
                    open=False,
                    timeout=self.timeout,
                    kwargs={"autocommit": True, "connect_timeout": max(1, round(self.timeout))},
                    configure=self._configure,
                    check=self._check,
                    reset=self._returned,
                    name=f"clinic-records-{os.getpid()}",
                )
                try:
                    await pool.open(wait=True, timeout=self.timeout)
                    await self._migrate(pool)
                except BaseException:
                    await pool.close()
                    raise
                self._pool = pool
        return self._pool

    async def _returned(self, conn: Conn) -> None:
        """The pool's reset hook: note when the connection came back, for `_check`."""
        self._idle_since[conn] = time.monotonic()

    async def _check(self, conn: Conn) -> None:
        """Before a connection is handed out: ping it if it sat idle (a restart or failover
        may have cut it since), so that costs no call; skip the round trip when it was in
        use a moment ago, as under load it always is."""
        idle_since = self._idle_since.get(conn)
        if idle_since is None or time.monotonic() - idle_since >= self.idle_check_seconds:
            await AsyncConnectionPool.check_connection(conn)

    async def _configure(self, conn: Conn) -> None:
        """Every wait on the server is bounded: a stuck lock is `Unavailable`, not a hang."""
        millis = int(self.timeout * 1000)
        await conn.execute(sql.SQL("SET lock_timeout = {}").format(millis))
        await conn.execute(sql.SQL("SET statement_timeout = {}").format(millis * 2))

    async def _migrate(self, pool: AsyncConnectionPool[Conn]) -> None:
        async with pool.connection() as conn:
            try:
                cursor = await conn.execute(APPLIED_MIGRATIONS)
                applied = [row[0] for row in await cursor.fetchall()]
            except psycopg.errors.UndefinedTable:
                applied = []
        if not is_current(applied, "postgresql"):
            await asyncio.to_thread(migrate, yoyo_uri(self.url), "postgresql", where=self.where)


__all__ = ["DEFAULT_IDLE_CHECK_SECONDS", "Conn", "RecordsPool", "describe", "yoyo_uri"]
