"""Talking to Redis: the client, the scripts, and the one way a script is run.

`RedisOtpStore` decides what the keys and scripts mean; this module decides how they reach a
server. `connect(url)` builds a standalone client with a blocking pool, or a Cluster client
(`cluster=True`, `url` naming any one node). `ScriptRunner.run` runs one script (see
`scripts.py`: the one NOSCRIPT path, which the batcher shares) and turns Redis trouble into
`StoreUnavailable`.

Retries: one re-send after a refused or dropped connection (and, on Cluster, CLUSTERDOWN or a
slot that moved), never after a timeout. A script re-sent after a connection dropped may have
run already; every counting script therefore carries an operation id and answers a replay
with its first answer (`lua/prelude.lua`, `remember`), so a retried guess counts once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import (
    ClusterDownError,
    RedisClusterException,
    RedisError,
    SlotNotCoveredError,
)
from redis.exceptions import ConnectionError as RedisConnectionError

from .base import DEFAULT_MAX_CONNECTIONS, StoreUnavailable
from .batching import ScriptBatcher
from .scripts import LuaScript, evalsha_or_eval

log = logging.getLogger("verification.stores.redis")

DEFAULT_POOL_TIMEOUT_SECONDS = 2.0
DEFAULT_SOCKET_TIMEOUT_SECONDS = 2.0


class _ClusterClient(RedisCluster):
    """`RedisCluster` that re-sends a command after a refused or dropped connection,
    CLUSTERDOWN or an unmapped slot (reloading the slot map first), never after a timeout.

    redis-py re-sends on `ERRORS_ALLOW_RETRY` (matched by exact type); its default list
    includes `TimeoutError`, and a script whose reply timed out may already have run. The
    operation id every counting script carries makes a re-send after a dropped connection
    harmless; a timeout is still not retried (the caller hears "unavailable" at once).
    """

    ERRORS_ALLOW_RETRY = (  # type: ignore[assignment]
        RedisConnectionError,
        ClusterDownError,
        SlotNotCoveredError,
    )


def connect(
    url: str,
    *,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    pool_timeout: float = DEFAULT_POOL_TIMEOUT_SECONDS,
    socket_timeout: float = DEFAULT_SOCKET_TIMEOUT_SECONDS,
    cluster: bool = False,
) -> Any:
    """A client for `url`: standalone (or Sentinel-fronted) with a blocking pool, or Cluster.

    Standalone: redis-py's default async pool raises "Too many connections" once
    `max_connections` are busy; a `BlockingConnectionPool` makes the extra operations wait
    (up to `pool_timeout`) instead, so a burst queues for microseconds rather than failing.

    Cluster: `url` names any one node; the client learns the slot map on first use (nothing
    connects here) and follows MOVED/ASK. Each node gets at most `max_connections`
    connections; its pools raise when full, so `ScriptRunner` queues instead. Raises
    `ValueError` for a URL Cluster cannot use (a database other than 0, a unix socket).
    """
    if cluster:
        try:
            return _ClusterClient.from_url(
                url,
                max_connections=max_connections,
                socket_timeout=socket_timeout,
                socket_connect_timeout=socket_timeout,
                # redis-py 8.1 takes only the count from this (re-sends are immediate;
                # CLUSTERDOWN waits 0.25 s before its re-send)
                retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=1),
                health_check_interval=30,
            )
        except RedisClusterException as exc:
            raise ValueError(f"cannot be used for Redis Cluster: {exc}") from None
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=pool_timeout,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_timeout,
        retry=Retry(
            ExponentialBackoff(cap=0.2, base=0.02),
            retries=1,
            supported_errors=(RedisConnectionError,),
        ),
        health_check_interval=30,
    )
    return aioredis.Redis(connection_pool=pool)


class ScriptRunner:
    """Runs scripts on one client, and turns Redis trouble into `StoreUnavailable`.

    On a standalone server, scripts submitted together share a round trip (`ScriptBatcher`).
    `max_in_flight` caps the scripts running at once; the rest wait up to `queue_timeout`,
    then answer `StoreUnavailable` (set for Cluster, whose per-node pools raise when full).
    """

    def __init__(
        self,
        client: Any,
        *,
        max_in_flight: int | None = None,
        queue_timeout: float = DEFAULT_POOL_TIMEOUT_SECONDS,
    ) -> None:
        self.client = client
        self.queue_timeout = queue_timeout
        self._gate = asyncio.Semaphore(max_in_flight) if max_in_flight is not None else None
        self._warm_lock = asyncio.Lock()
        self._warm = not isinstance(client, RedisCluster)  # see `_warm_up`
        # a Cluster client sends each script to its own node
        self._batcher = ScriptBatcher(client) if isinstance(client, aioredis.Redis) else None

    async def run(self, script: LuaScript, keys: Sequence[str | bytes], args: Sequence[Any]) -> Any:
        """Run `script` once; raise `StoreUnavailable` when Redis cannot answer.

        `RedisClusterException` is not a `RedisError`: it is what Cluster raises when no
        node answers ("Redis Cluster cannot be connected") or the slot map has holes."""
        if not self._warm:
            await self._warm_up()
        if self._gate is None:
            return await self._call(script, keys, args)
        try:
            async with asyncio.timeout(self.queue_timeout):
                await self._gate.acquire()
        except TimeoutError:
            _log_failure("QueueTimeout", "no free turn")
            raise StoreUnavailable("redis store busy: no free connection") from None
        try:
            return await self._call(script, keys, args)
        finally:
            self._gate.release()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _call(
        self, script: LuaScript, keys: Sequence[str | bytes], args: Sequence[Any]
    ) -> Any:
        try:
            if self._batcher is not None:
                return await self._batcher.run(script, keys, args)
            return await evalsha_or_eval(self.client, script, keys, args)
        except (RedisError, RedisClusterException, OSError, TimeoutError) as exc:
            _log_failure(type(exc).__name__, str(exc))
            raise StoreUnavailable(f"redis store failed: {type(exc).__name__}") from exc

    async def _warm_up(self) -> None:
        """Let a cold Cluster client finish its first command alone.

        redis-py 8.1's Cluster client, handed many commands at once before any completed
        (slot map, first connections), can hand one connection to two commands and crash
        with AttributeError; after one round trip it is fine. So the first operation of a
        store runs under a lock, and the others wait for it (microseconds, once)."""
        async with self._warm_lock:
            if self._warm:
                return
            try:
                await self.client.initialize()
            except (RedisError, RedisClusterException, OSError, TimeoutError) as exc:
                _log_failure(type(exc).__name__, str(exc))
                raise StoreUnavailable(f"redis store failed: {type(exc).__name__}") from exc
            self._warm = True


def _log_failure(error: str, detail: str) -> None:
    log.error("otp redis store failed", extra={"store": "redis", "error": error, "detail": detail})
