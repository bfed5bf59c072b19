"""The shared code store for many workers: Redis, one Lua script per operation.

Each operation is one EVALSHA round trip that reads and writes every counter it needs, so
parallel guesses from several workers are counted exactly. All keys of a phone carry the
phone as a hash tag (`otp:{+14155550123}:code:<session>`) so each script touches a single
Redis Cluster slot, and every key has a TTL, so nothing outlives its purpose. Knowledge
throttle counters and SMS breakers have their own tags (`{kba:...}`, `{sms-breaker:...}`):
each of their scripts touches one key. Time comes from the
Redis server (`TIME`), so workers with skewed clocks agree on expiry and cooldowns.

`RedisOtpStore.from_url(url)` talks to one standalone (or Sentinel-fronted) server;
`RedisOtpStore.from_url(url, cluster=True)` talks to a Redis Cluster, with `url` naming any
one node: the client discovers the others and sends each EVALSHA to the node owning the
phone's slot.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from collections.abc import Sequence
from importlib import resources
from typing import Any, NamedTuple

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import (
    ClusterDownError,
    NoScriptError,
    RedisClusterException,
    RedisError,
    SlotNotCoveredError,
)
from redis.exceptions import ConnectionError as RedisConnectionError

from ..policy import OtpPolicy
from .base import CheckResult, CheckStatus, IssueResult, IssueStatus, StoreUnavailable
from .batching import ScriptBatcher

log = logging.getLogger(__name__)


DEFAULT_KEY_PREFIX = "otp"
DEFAULT_MAX_CONNECTIONS = 64
DEFAULT_POOL_TIMEOUT_SECONDS = 2.0
DEFAULT_SOCKET_TIMEOUT_SECONDS = 2.0


class _ClusterClient(RedisCluster):
    """`RedisCluster` that re-sends a command after a refused or dropped connection,
    CLUSTERDOWN or an unmapped slot (reloading the slot map first), never after a timeout.

    redis-py re-sends on `ERRORS_ALLOW_RETRY` (matched by exact type); its default list
    includes `TimeoutError`, and a script whose reply timed out may already have run, so
    re-sending it could count one guess twice or issue a second code. Same rule as the
    standalone client's `Retry(supported_errors=(ConnectionError,))` (which shares the
    rare case of a connection dropped after the script ran).
    """

    ERRORS_ALLOW_RETRY = (  # type: ignore[assignment]
        RedisConnectionError,
        ClusterDownError,
        SlotNotCoveredError,
    )


def _script(name: str) -> str:
    return resources.files(__package__).joinpath("lua", name).read_text(encoding="utf-8")


class RedisOtpStore:
    """`OtpStore` on Redis (standalone, Sentinel-managed or Cluster)."""

    def __init__(
        self,
        client: Any,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        max_in_flight: int | None = None,
        queue_timeout: float = DEFAULT_POOL_TIMEOUT_SECONDS,
    ) -> None:
        """`client` is a `redis.asyncio.Redis` or `redis.asyncio.cluster.RedisCluster`.

        `max_in_flight` caps the operations this store runs at once; the rest wait up to
        `queue_timeout` seconds for a turn, then answer `StoreUnavailable`. `from_url` sets
        it for Cluster, whose per-node pools raise instead of waiting when full; a
        standalone client from `from_url` queues in its `BlockingConnectionPool` instead.
        """
        self.client = client
        self.key_prefix = key_prefix
        self.queue_timeout = queue_timeout
        self._gate = asyncio.Semaphore(max_in_flight) if max_in_flight is not None else None
        self._warm_lock = asyncio.Lock()
        self._warm = not isinstance(client, RedisCluster)  # see `_warm_up`
        # concurrent scripts share round trips on a standalone server (see batching.py);
        # a Cluster client sends each to its own node
        self._batcher = ScriptBatcher(client) if isinstance(client, aioredis.Redis) else None
        self._issue = client.register_script(_script("issue.lua"))
        self._check = client.register_script(_script("check.lua"))
        self._take = client.register_script(_script("take.lua"))
        self._give_back = client.register_script(_script("give_back.lua"))
        self._breaker = client.register_script(_script("breaker.lua"))

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        pool_timeout: float = DEFAULT_POOL_TIMEOUT_SECONDS,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT_SECONDS,
        cluster: bool = False,
    ) -> RedisOtpStore:
        """A store with a deliberately sized, blocking connection pool.

        `cluster=True`: a Redis Cluster client instead, with the same limits per node and
        the same "wait, don't fail" rule (see `_from_cluster_url`).

        redis-py's default async pool raises "Too many connections" once `max_connections`
        are busy; a `BlockingConnectionPool` makes the extra operations wait (up to
        `pool_timeout`) for a connection instead, so a burst of calls queues for a few
        microseconds rather than failing. One retry covers a connection that died while idle
        (e.g. after a Redis restart); timeouts are not retried, so a script is never run
        twice for one guess.
        """
        if cluster:
            return cls._from_cluster_url(
                url,
                key_prefix=key_prefix,
                max_connections=max_connections,
                pool_timeout=pool_timeout,
                socket_timeout=socket_timeout,
            )
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
        return cls(aioredis.Redis(connection_pool=pool), key_prefix=key_prefix)

    @classmethod
    def _from_cluster_url(
        cls,
        url: str,
        *,
        key_prefix: str,
        max_connections: int,
        pool_timeout: float,
        socket_timeout: float,
    ) -> RedisOtpStore:
        """A Redis Cluster store; `url` names any one node (`redis://` or `rediss://`).

        The client learns the slot map from that node on first use (nothing connects here)
        and sends each script to the primary owning the phone's slot, following MOVED/ASK
        redirects; a node without the script gets its text once (see `_call`).

        Each node gets at most `max_connections` connections. As a node's pool raises when
        full rather than waiting, the store itself lets at most `max_connections`
        operations run at once (one connection each, at most one per node at a time) and
        queues the rest up to `pool_timeout`. One re-send after a refused or dropped
        connection or CLUSTERDOWN, with the slot map reloaded; never after a timeout (see
        `_ClusterClient`). Raises `ValueError` for a URL Cluster cannot use (a database
        other than 0, a unix socket).
        """
        try:
            client = _ClusterClient.from_url(
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
            raise ValueError(f"REDIS_URL cannot be used for Redis Cluster: {exc}") from None
        return cls(
            client,
            key_prefix=key_prefix,
            max_in_flight=max_connections,
            queue_timeout=pool_timeout,
        )

    def keys_for(self, phone: str, session_id: str = "", caller: str = "") -> PhoneKeys:
        """Every key `phone` uses, sharing the `{phone}` hash tag (one Cluster slot)."""
        base = f"{self.key_prefix}:{{{phone}}}"
        return PhoneKeys(
            code=f"{base}:code:{session_id}",
            caller_sends=f"{base}:sends:{caller}",
            phone_sends=f"{base}:sends",
            caller_failures=f"{base}:failures:{caller}",
            phone_failures=f"{base}:failures",
        )

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - bounded; a store lives as long as its process
    def _check_keys(self, phone: str, session_id: str, caller: str) -> list[bytes]:
        """check.lua's keys, encoded once per (phone, call, caller): a call guesses a few
        times about one number, and encoding keys is a fair part of a guess's client work."""
        keys = self.keys_for(phone, session_id, caller)
        return [keys.code.encode(), keys.caller_failures.encode(), keys.phone_failures.encode()]

    def subject_key(self, subject: str) -> str:
        """A knowledge-throttle counter: its own slot (`{kba:subject}`), one key per script."""
        return f"{self.key_prefix}:{{kba:{subject}}}:failures"

    def breaker_key(self, provider: str) -> str:
        return f"{self.key_prefix}:{{sms-breaker:{provider}}}"

    async def issue(
        self, phone: str, session_id: str, digest: bytes, policy: OtpPolicy, *, caller: str
    ) -> IssueResult:
        keys = self.keys_for(phone, session_id, caller)
        reply = await self._run(
            self._issue,
            keys=list(keys),
            args=[
                digest,
                secrets.token_hex(8),
                policy.ttl_seconds * 1000,
                2 * policy.ttl_seconds * 1000,
                policy.max_attempts,
                policy.max_sends,
                policy.max_phone_sends,
                policy.send_window_seconds * 1000,
                policy.resend_cooldown_seconds * 1000,
                policy.max_failures,
                policy.max_phone_failures,
            ],
        )
        status: IssueStatus = _text(reply[0])  # type: ignore[assignment]
        if status == "issued":
            return _ISSUED
        return IssueResult(status, _ms_to_seconds(int(reply[1])), own_code_live=reply[2] == 1)

    async def check(
        self, phone: str, session_id: str, digest: bytes, policy: OtpPolicy, *, caller: str
    ) -> CheckResult:
        status_raw, attempts_left, lock_ms = await self._run(
            self._check,
            keys=self._check_keys(phone, session_id, caller),
            args=[digest, *_check_limits(policy)],
        )
        status: CheckStatus = _STATUSES.get(status_raw) or _text(status_raw)  # type: ignore[assignment]
        if status == "wrong_code":
            return CheckResult(status, int(attempts_left))
        if status == "locked":
            return CheckResult(status, 0, _ms_to_seconds(int(lock_ms)))
        return _PLAIN[status]

    async def take(self, counters: Sequence[tuple[str, int]], window_seconds: int) -> int | None:
        """One script per counter (each its own slot), in order; if a later one refuses, the
        ones already counted are given back, so nothing more is counted on refusal."""
        counted: list[str] = []
        for subject, limit in counters:
            try:
                ok, wait_ms = await self._run(
                    self._take,
                    keys=[self.subject_key(subject)],
                    args=[limit, window_seconds * 1000],
                )
            except StoreUnavailable:
                await self._give_back_quietly(counted)
                raise
            if not int(ok):
                await self._give_back_quietly(counted)
                return _ms_to_seconds(int(wait_ms))
            counted.append(subject)
        return None

    async def give_back(self, subjects: Sequence[str]) -> None:
        for subject in subjects:
            await self._run(self._give_back, keys=[self.subject_key(subject)], args=[])

    async def _give_back_quietly(self, subjects: Sequence[str]) -> None:
        """Best effort: a store that fails here has failed the caller already."""
        try:
            await self.give_back(subjects)
        except StoreUnavailable:
            log.warning("could not give back a throttle count", extra={"store": "redis"})

    async def breaker_allow(self, provider: str, probe_seconds: float) -> bool:
        reply = await self._run(
            self._breaker,
            keys=[self.breaker_key(provider)],
            args=["allow", int(probe_seconds * 1000), 0, 0],
        )
        return int(reply) == 1

    async def breaker_record(
        self, provider: str, *, failed: bool, threshold: int, cooloff_seconds: float
    ) -> None:
        await self._run(
            self._breaker,
            keys=[self.breaker_key(provider)],
            args=["failure" if failed else "success", 0, threshold, int(cooloff_seconds * 1000)],
        )

    async def breaker_release(self, provider: str) -> None:
        await self._run(self._breaker, keys=[self.breaker_key(provider)], args=["release", 0, 0, 0])

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _run(self, script: Any, *, keys: Sequence[str | bytes], args: list[Any]) -> Any:
        """Run a script (EVALSHA; EVAL on NOSCRIPT) and turn Redis trouble into
        `StoreUnavailable`, so a Redis outage is an outcome, never a crash.

        `RedisClusterException` is not a `RedisError`: it is what Cluster raises when no
        node answers ("Redis Cluster cannot be connected") or the slot map has holes.
        """
        if not self._warm:
            await self._warm_up()
        if self._gate is None:
            return await self._call(script, keys, args)
        try:
            async with asyncio.timeout(self.queue_timeout):
                await self._gate.acquire()
        except TimeoutError:
            log.error(
                "otp redis store busy",
                extra={"store": "redis", "error": "QueueTimeout", "detail": "no free turn"},
            )
            raise StoreUnavailable("redis store busy: no free connection") from None
        try:
            return await self._call(script, keys, args)
        finally:
            self._gate.release()

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
                log.error(
                    "otp redis store failed",
                    extra={"store": "redis", "error": type(exc).__name__, "detail": str(exc)},
                )
                raise StoreUnavailable(f"redis store failed: {type(exc).__name__}") from exc
            self._warm = True

    async def _call(self, script: Any, keys: Sequence[str | bytes], args: list[Any]) -> Any:
        try:
            if self._batcher is not None:
                return await self._batcher.run(script, keys, args)
            try:
                return await self.client.evalsha(script.sha, len(keys), *keys, *args)
            except NoScriptError:
                # Not in that server's script cache (restart, failover, SCRIPT FLUSH): the
                # script did not run, so EVAL sends its text to the same node, which runs
                # and caches it. (redis-py's `Script.__call__` would SCRIPT LOAD on every
                # Cluster primary first, failing while any one of them is down.)
                return await self.client.eval(script.script, len(keys), *keys, *args)
        except (RedisError, RedisClusterException, OSError, TimeoutError) as exc:
            log.error(
                "otp redis store failed",
                extra={"store": "redis", "error": type(exc).__name__, "detail": str(exc)},
            )
            raise StoreUnavailable(f"redis store failed: {type(exc).__name__}") from exc


class PhoneKeys(NamedTuple):
    """The keys of one phone (all tagged `{phone}`), in the order issue.lua takes them."""

    code: str
    caller_sends: str
    phone_sends: str
    caller_failures: str
    phone_failures: str


_ISSUED = IssueResult("issued")
_STATUSES: dict[bytes | str, str] = {
    s.encode(): s for s in ("verified", "wrong_code", "expired", "no_code", "locked")
}
_PLAIN: dict[str, CheckResult] = {
    "verified": CheckResult("verified"),
    "expired": CheckResult("expired"),
    "no_code": CheckResult("no_code"),
}


@functools.lru_cache(maxsize=64)
def _check_limits(policy: OtpPolicy) -> tuple[bytes, ...]:
    """check.lua's limit arguments, encoded once per policy (policies are frozen)."""
    return tuple(
        str(value).encode()
        for value in (
            policy.max_attempts,
            policy.max_failures,
            policy.max_phone_failures,
            policy.failure_window_seconds * 1000,
        )
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _ms_to_seconds(ms: int) -> int:
    """Round a wait up to whole seconds; a key without TTL (-1) still means "a moment"."""
    return max(1, -(-ms // 1000))
