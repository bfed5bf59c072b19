"""The shared code store for many workers: Redis, one Lua script per operation.

Each operation is one EVALSHA round trip that reads and writes every counter it needs, so
parallel guesses from several workers are counted exactly. All keys of a phone carry the
phone as a hash tag (`otp:{+14155550123}:code:<session>`) so each script touches a single
Redis Cluster slot, and every key has a TTL, so nothing outlives its purpose. Counters
(knowledge answers, a host's quotas) and SMS breakers have their own tags (`{kba:...}`,
`{sms-breaker:...}`): each of their scripts touches one slot. Time comes from the Redis
server (`TIME`), so workers with skewed clocks agree on windows, expiry and cooldowns.

Limits are sliding windows: sorted sets of event ids scored by time (`lua/prelude.lua`).
Each counting script carries an operation id, and its answer is remembered for a minute under
`...:op:<id>` in the same slot: a script re-sent by redis-py after a dropped connection (alone
or in a batched pipeline) answers as it did the first time and counts nothing twice.

`RedisOtpStore.from_url(url)` talks to one standalone (or Sentinel-fronted) server;
`RedisOtpStore.from_url(url, cluster=True)` to a Redis Cluster, `url` naming any one node.
How commands reach the server lives in `redis_client.py`.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Sequence
from typing import Any, NamedTuple

from redis.asyncio.cluster import RedisCluster

from ..policy import OtpPolicy
from .base import (
    DEFAULT_KEY_PREFIX,
    DEFAULT_MAX_CONNECTIONS,
    CheckResult,
    CheckStatus,
    IssueResult,
    IssueStatus,
    StoreUnavailable,
    caller_kind,
)
from .redis_client import (
    DEFAULT_POOL_TIMEOUT_SECONDS,
    DEFAULT_SOCKET_TIMEOUT_SECONDS,
    ScriptRunner,
    connect,
)
from .scripts import LuaScript

log = logging.getLogger(__name__)

_SCRIPTS = {
    name: LuaScript.load(f"{name}.lua")
    for name in ("issue", "check", "take", "give_back", "breaker")
}


class PhoneKeys(NamedTuple):
    """The keys of one phone (all tagged `{phone}`), in the order issue.lua takes them."""

    code: str
    caller_sends: str
    phone_sends: str
    reserve_sends: str
    caller_failures: str
    phone_failures: str
    reserve_failures: str


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
        self._runner = ScriptRunner(
            client, max_in_flight=max_in_flight, queue_timeout=queue_timeout
        )

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
        """A store on a client sized to queue, not fail (see `redis_client.connect`).

        `cluster=True`: a Redis Cluster client, `url` naming any one node; the store itself
        then lets at most `max_connections` operations run at once and queues the rest up
        to `pool_timeout`. Raises `ValueError` for a URL Cluster cannot use."""
        client = connect(
            url,
            max_connections=max_connections,
            pool_timeout=pool_timeout,
            socket_timeout=socket_timeout,
            cluster=cluster,
        )
        if not isinstance(client, RedisCluster):
            return cls(client, key_prefix=key_prefix)
        return cls(
            client, key_prefix=key_prefix, max_in_flight=max_connections, queue_timeout=pool_timeout
        )

    # -- keys ---------------------------------------------------------------------------------

    def keys_for(self, phone: str, session_id: str = "", caller: str = "") -> PhoneKeys:
        """Every key `phone` uses, sharing the `{phone}` hash tag (one Cluster slot)."""
        base = f"{self.key_prefix}:{{{phone}}}"
        return PhoneKeys(
            code=f"{base}:code:{session_id}",
            caller_sends=f"{base}:sends:{caller}",
            phone_sends=f"{base}:sends",
            reserve_sends=f"{base}:sends:reserve",
            caller_failures=f"{base}:failures:{caller}",
            phone_failures=f"{base}:failures",
            reserve_failures=f"{base}:failures:reserve",
        )

    def op_key(self, phone: str, op: str) -> str:
        """Where an operation on `phone` remembers its answer (same slot as its keys)."""
        return f"{self.key_prefix}:{{{phone}}}:op:{op}"

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - bounded; a store lives as long as its process
    def _check_keys(self, phone: str, session_id: str, caller: str) -> tuple[bytes, ...]:
        """check.lua's keys but the last, encoded once per (phone, call, caller): a call
        guesses a few times about one number, and encoding keys is part of a guess's cost."""
        keys = self.keys_for(phone, session_id, caller)
        return tuple(
            key.encode()
            for key in (keys.code, keys.caller_failures, keys.phone_failures, keys.reserve_failures)
        )

    def subject_key(self, subject: str) -> str:
        """A counter (knowledge answers, a host's quota): its own slot, `{kba:subject}`."""
        return f"{self.key_prefix}:{{kba:{subject}}}:failures"

    def breaker_key(self, provider: str) -> str:
        return f"{self.key_prefix}:{{sms-breaker:{provider}}}"

    # -- codes ----------------------------------------------------------------------------------

    async def issue(
        self, phone: str, session_id: str, digest: bytes, policy: OtpPolicy, *, caller: str
    ) -> IssueResult:
        op = _op_id()
        keys = [*self.keys_for(phone, session_id, caller), self.op_key(phone, op)]
        status_raw, wait_ms, live, tripped = await self._runner.run(
            _SCRIPTS["issue"],
            keys,
            [
                digest,
                op,
                caller_kind(caller),
                policy.ttl_seconds * 1000,
                2 * policy.ttl_seconds * 1000,
                policy.max_attempts,
                policy.max_sends,
                policy.max_phone_sends,
                policy.owner_reserve_sends,
                policy.send_window_seconds * 1000,
                policy.resend_cooldown_seconds * 1000,
                *_failure_limits(policy),
            ],
        )
        status: IssueStatus = _text(status_raw)  # type: ignore[assignment]
        if status == "issued":
            return _TRIPPED_SENDS if tripped == 1 else _ISSUED
        return IssueResult(status, _ms_to_seconds(int(wait_ms)), own_code_live=live == 1)

    async def check(
        self, phone: str, session_id: str, digest: bytes, policy: OtpPolicy, *, caller: str
    ) -> CheckResult:
        op = _op_id()
        keys: list[str | bytes] = [*self._check_keys(phone, session_id, caller)]
        keys.append(self.op_key(phone, op))
        status_raw, attempts_left, lock_ms, tripped = await self._runner.run(
            _SCRIPTS["check"],
            keys,
            [digest, op, caller_kind(caller), policy.max_attempts, *_failure_limits(policy)],
        )
        status: CheckStatus = _STATUSES.get(status_raw) or _text(status_raw)  # type: ignore[assignment]
        if status == "wrong_code":
            return CheckResult(status, int(attempts_left), tripped=tripped == 1)
        if status == "locked":
            return CheckResult(status, 0, _ms_to_seconds(int(lock_ms)), tripped=tripped == 1)
        return _PLAIN[status]

    # -- counters -------------------------------------------------------------------------------

    async def take(self, counters: Sequence[tuple[str, int]], window_seconds: int) -> int | None:
        """One script per counter (each its own slot), in order; if a later one refuses, the
        ones already counted are given back, so nothing more is counted on refusal."""
        counted: list[str] = []
        for subject, limit in counters:
            op = _op_id()
            try:
                ok, wait_ms = await self._runner.run(
                    _SCRIPTS["take"],
                    [self.subject_key(subject), self._subject_op_key(subject, op)],
                    [limit, window_seconds * 1000, op],
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
            op = _op_id()
            await self._runner.run(
                _SCRIPTS["give_back"],
                [self.subject_key(subject), self._subject_op_key(subject, op)],
                [],
            )

    def _subject_op_key(self, subject: str, op: str) -> str:
        return f"{self.key_prefix}:{{kba:{subject}}}:op:{op}"

    async def _give_back_quietly(self, subjects: Sequence[str]) -> None:
        """Best effort: a store that fails here has failed the caller already."""
        try:
            await self.give_back(subjects)
        except StoreUnavailable:
            log.warning("could not give back a throttle count", extra={"store": "redis"})

    # -- SMS circuit breakers -------------------------------------------------------------------

    async def breaker_allow(self, provider: str, probe_seconds: float) -> bool:
        reply = await self._runner.run(
            _SCRIPTS["breaker"],
            [self.breaker_key(provider)],
            ["allow", int(probe_seconds * 1000), 0, 0],
        )
        return int(reply) == 1

    async def breaker_record(
        self, provider: str, *, failed: bool, threshold: int, cooloff_seconds: float
    ) -> None:
        await self._runner.run(
            _SCRIPTS["breaker"],
            [self.breaker_key(provider)],
            ["failure" if failed else "success", 0, threshold, int(cooloff_seconds * 1000)],
        )

    async def breaker_release(self, provider: str) -> None:
        await self._runner.run(
            _SCRIPTS["breaker"], [self.breaker_key(provider)], ["release", 0, 0, 0]
        )

    async def aclose(self) -> None:
        await self._runner.aclose()


_ISSUED = IssueResult("issued")
_TRIPPED_SENDS = IssueResult("issued", tripped=True)
_STATUSES: dict[bytes | str, str] = {
    s.encode(): s for s in ("verified", "wrong_code", "expired", "no_code", "locked")
}
_PLAIN: dict[str, CheckResult] = {
    "verified": CheckResult("verified"),
    "expired": CheckResult("expired"),
    "no_code": CheckResult("no_code"),
}


def _op_id() -> str:
    """An operation's id: what a replayed script recognises itself by (64 random bits)."""
    return secrets.token_hex(8)


@functools.lru_cache(maxsize=64)
def _failure_limits(policy: OtpPolicy) -> tuple[bytes, ...]:
    """The failure limits both scripts take, encoded once per policy (policies are frozen)."""
    return tuple(
        str(value).encode()
        for value in (
            policy.max_failures,
            policy.max_phone_failures,
            policy.owner_reserve_failures,
            policy.failure_window_seconds * 1000,
        )
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _ms_to_seconds(ms: int) -> int:
    """Round a wait up to whole seconds; a key without TTL (-1) still means "a moment"."""
    return max(1, -(-ms // 1000))
