"""Benchmark the code stores: Redis round trips per operation, and verify_code throughput.

Round trips are counted at the client: every request the redis-py connection writes to the
socket (`INFO commandstats` would also count the commands a script runs inside Redis, which
cost no network trip). Throughput is `verify_code` calls per second through `OtpService`, each
a wrong guess that goes the full write path (attempt and failure counters updated).

    uv run python bench/otp_store.py [--seconds 3]

Starts a private redis-server on a free port (or uses BENCH_REDIS_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis.asyncio as aioredis

from tests.support.redis_server import RedisServer
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import (
    OtpPolicy,
    OtpService,
    OtpStore,
    RedisOtpStore,
    SqliteOtpStore,
)

PHONE = "+14155550123"
PEPPER = b"bench-pepper-0123456789abcdef"
# Counters high enough that every guess stays a full "wrong_code" write.
POLICY = OtpPolicy(
    max_attempts=10**9, max_failures=10**9, max_sends=10**9, resend_cooldown_seconds=0
)


class CountingConnection(aioredis.Connection):
    """A redis-py connection that counts the requests it writes (pipelines count once)."""

    sent = 0

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        await super().send_packed_command(command, check_health)


def counting_store(url: str, prefix: str) -> RedisOtpStore:
    pool = aioredis.BlockingConnectionPool.from_url(
        url, connection_class=CountingConnection, max_connections=64, timeout=5
    )
    return RedisOtpStore(aioredis.Redis(connection_pool=pool), key_prefix=prefix)


def service(store: OtpStore) -> OtpService:
    return OtpService(store, RecordingSmsSender(), StaticDirectory({PHONE}), POLICY, pepper=PEPPER)


class PerOperation(NamedTuple):
    """What one operation costs: requests the client sends, commands the server runs."""

    round_trips: float
    server_commands: float


async def _server_commands(admin: aioredis.Redis) -> int:
    """Commands the server has run (scripts' inner calls included), less our own INFO."""
    stats = await admin.info("commandstats")
    return sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info")


async def per_operation(url: str) -> tuple[PerOperation, PerOperation]:
    """Cost of `request_code` and of `verify_code` (wrong guess), averaged over 200 each."""
    svc = service(counting_store(url, f"bench-rt-{os.getpid()}"))
    admin = aioredis.Redis.from_url(url)
    await svc.request_code(PHONE, session_id="warm")  # loads the scripts once (EVALSHA miss)
    await svc.verify_code(PHONE, "000000", session_id="warm")
    n = 200

    async def measure(operation: Callable[[int], Awaitable[object]]) -> PerOperation:
        CountingConnection.sent = 0
        before = await _server_commands(admin)
        for i in range(n):
            await operation(i)
        after = await _server_commands(admin)
        return PerOperation(CountingConnection.sent / n, (after - before) / n)

    requests = await measure(lambda i: svc.request_code(PHONE, session_id=f"s{i}"))
    verifies = await measure(lambda i: svc.verify_code(PHONE, "000000", session_id=f"s{n - 1}"))
    await admin.aclose()
    await svc.aclose()
    return requests, verifies


async def throughput(store: OtpStore, concurrency: int, seconds: float) -> float:
    svc = service(store)
    assert (await svc.request_code(PHONE, session_id="bench")).status == "sent"
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            outcome = await svc.verify_code(PHONE, "000000", session_id="bench")
            assert outcome.status in ("wrong_code", "verified"), outcome.status
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await svc.aclose()
    return done / elapsed


async def main(seconds: float) -> None:
    server = None
    url = os.environ.get("BENCH_REDIS_URL")
    tmp = Path(tempfile.mkdtemp(prefix="otp-bench-"))
    if not url:
        server = RedisServer(tmp / "redis")
        server.start()
        url = server.url
    try:
        request, verify = await per_operation(url)
        print("redis, per operation:  round trips   commands the server runs (in the script)")
        print(f"  request_code        {request.round_trips:11.2f}   {request.server_commands:6.2f}")
        print(f"  verify_code         {verify.round_trips:11.2f}   {verify.server_commands:6.2f}")
        for concurrency in (1, 64):
            sqlite_rate = await throughput(
                SqliteOtpStore(tmp / f"otp-{concurrency}.sqlite3"), concurrency, seconds
            )
            redis_rate = await throughput(
                RedisOtpStore.from_url(url, key_prefix=f"bench-{concurrency}"), concurrency, seconds
            )
            label = f"verify_code ops/s, {concurrency:>2} concurrent:"
            print(f"{label} sqlite {sqlite_rate:8.0f}   redis {redis_rate:8.0f}")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)  # the audit trail is not what is measured here
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    asyncio.run(main(parser.parse_args().seconds))
