"""The shared code store for many workers: Redis, one Lua script per operation.

Each operation is one EVALSHA round trip that reads and writes every counter it needs, so
parallel guesses from several workers are counted exactly. All keys of a phone carry the
phone as a hash tag (`otp:{+14155550123}:challenge`) so each script touches a single Redis
Cluster slot, and every key has a TTL, so nothing outlives its purpose. Time comes from the
Redis server (`TIME`), so workers with skewed clocks agree on expiry and cooldowns.
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from .policy import OtpPolicy
from .store import CheckResult, CheckStatus, IssueResult, IssueStatus, StoreUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_KEY_PREFIX = "otp"
DEFAULT_MAX_CONNECTIONS = 64
DEFAULT_POOL_TIMEOUT_SECONDS = 2.0
DEFAULT_SOCKET_TIMEOUT_SECONDS = 2.0


def _script(name: str) -> str:
    return resources.files(__package__).joinpath("lua", name).read_text(encoding="utf-8")


class RedisOtpStore:
    """`OtpStore` on Redis (standalone, Sentinel-managed or Cluster)."""

    def __init__(self, client: Any, *, key_prefix: str = DEFAULT_KEY_PREFIX) -> None:
        self.client = client
        self.key_prefix = key_prefix
        self._issue = client.register_script(_script("issue.lua"))
        self._check = client.register_script(_script("check.lua"))
        self._withdraw = client.register_script(_script("withdraw.lua"))

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        pool_timeout: float = DEFAULT_POOL_TIMEOUT_SECONDS,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT_SECONDS,
    ) -> RedisOtpStore:
        """A store with a deliberately sized, blocking connection pool.

        redis-py's default async pool raises "Too many connections" once `max_connections`
        are busy; a `BlockingConnectionPool` makes the extra operations wait (up to
        `pool_timeout`) for a connection instead, so a burst of calls queues for a few
        microseconds rather than failing. One retry covers a connection that died while idle
        (e.g. after a Redis restart); timeouts are not retried, so a script is never run
        twice for one guess.
        """
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

    def keys_for(self, phone: str) -> tuple[str, str, str]:
        """(challenge, sends, failures) keys of `phone`, sharing the `{phone}` hash tag."""
        base = f"{self.key_prefix}:{{{phone}}}"
        return f"{base}:challenge", f"{base}:sends", f"{base}:failures"

    async def issue(
        self, phone: str, session_id: str, digest: bytes, challenge_id: str, policy: OtpPolicy
    ) -> IssueResult:
        challenge, sends, failures = self.keys_for(phone)
        reply = await self._run(
            self._issue,
            keys=[challenge, sends, failures],
            args=[
                session_id,
                digest,
                challenge_id,
                policy.ttl_seconds * 1000,
                policy.max_sends,
                policy.send_window_seconds * 1000,
                policy.resend_cooldown_seconds * 1000,
                policy.max_failures,
                2 * policy.ttl_seconds * 1000,
            ],
        )
        status: IssueStatus = _text(reply[0])  # type: ignore[assignment]
        wait_ms = int(reply[1])
        return IssueResult(status, _ms_to_seconds(wait_ms) if status != "issued" else None)

    async def withdraw(self, phone: str, challenge_id: str) -> None:
        challenge, sends, _ = self.keys_for(phone)
        await self._run(self._withdraw, keys=[challenge, sends], args=[challenge_id])

    async def check(
        self, phone: str, session_id: str, digest: bytes, policy: OtpPolicy
    ) -> CheckResult:
        challenge, _, failures = self.keys_for(phone)
        reply = await self._run(
            self._check,
            keys=[challenge, failures],
            args=[
                session_id,
                digest,
                policy.max_attempts,
                policy.max_failures,
                policy.failure_window_seconds * 1000,
            ],
        )
        status: CheckStatus = _text(reply[0])  # type: ignore[assignment]
        attempts_left = int(reply[1]) if status in ("wrong_code", "locked") else None
        retry_after = _ms_to_seconds(int(reply[2])) if status == "locked" else None
        return CheckResult(status, attempts_left, retry_after)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _run(self, script: Any, *, keys: list[str], args: list[Any]) -> Any:
        """Run a script (EVALSHA; loaded on first use) and turn Redis trouble into
        `StoreUnavailable`, so a Redis outage is an outcome, never a crash."""
        try:
            return await script(keys=keys, args=args)
        except (RedisError, OSError, TimeoutError) as exc:
            log.error(
                "otp redis store failed",
                extra={"store": "redis", "error": type(exc).__name__, "detail": str(exc)},
            )
            raise StoreUnavailable(f"redis store failed: {type(exc).__name__}") from exc


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _ms_to_seconds(ms: int) -> int:
    """Round a wait up to whole seconds; a key without TTL (-1) still means "a moment"."""
    return max(1, -(-ms // 1000))
