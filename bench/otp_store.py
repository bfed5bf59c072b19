"""Benchmark the code stores: Redis round trips per operation, and verify_code throughput.

Round trips are counted at the client: every request the redis-py connection writes to the
socket (`INFO commandstats` would also count the commands a script runs inside Redis, which
cost no network trip). Throughput is `verify_code` calls per second through `OtpService`, each
a wrong guess that goes the full write path (attempt and failure counters updated).

Then the ratios, measured fairly in one run: `OtpService.verify_code` on Redis against (1) the
seed's algorithm as plain commands (HGETALL, compare, HINCRBY) and (2) a bare EVALSHA of an
empty script (the floor: one round trip, nothing else), all three on the same client, each
writing one log record per attempt through the same configured handler (a formatter writing
to /dev/null), as the seed says to log every attempt. Twice: at one guess at a time (what
production sees: LiveKit runs one call per process, and a caller says one code at a time)
and at 64 concurrent tasks (where concurrent guesses share round trips, batching.py). Rounds
are interleaved (the order rotates) and the median of each side is taken.

    uv run python bench/otp_store.py [--seconds 3] [--ratio-seconds 1] [--rounds 7]

Starts a private redis-server on a free port (or uses BENCH_REDIS_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
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
from tests.support.stats import round_order
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
    max_attempts=10**9,
    max_failures=10**9,
    max_phone_failures=10**9,
    max_sends=10**9,
    max_phone_sends=10**9,
    resend_cooldown_seconds=0,
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


attempt_log = logging.getLogger("bench.seed")


class SeedAsCommands:
    """The seed's verify_otp on Redis, one command per step: HGETALL, compare, HINCRBY."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self.key = f"seed-{os.getpid()}:{{{PHONE}}}"

    async def setup(self) -> None:
        await self.redis.delete(self.key)
        await self.redis.hset(
            self.key, mapping={"code": "402991", "expires_at": time.time() + 3600, "attempts": 0}
        )

    async def verify(self, code: str) -> str:
        fields = await self.redis.hgetall(self.key)
        stored = {_text(k): _text(v) for k, v in fields.items()}
        status = "wrong_code"
        if not stored:
            status = "no_code"
        elif time.time() > float(stored["expires_at"]):
            status = "expired"
        elif code == stored["code"]:
            await self.redis.delete(self.key)
            status = "verified"
        else:
            await self.redis.hincrby(self.key, "attempts", 1)
        attempt_log.info(
            "otp.%s", status, extra={"event": f"otp.{status}", "phone": "ending in 0123"}
        )
        return status


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class EmptyScript:
    """The floor: one EVALSHA of a script that does nothing, and the same one log record."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self.script = redis.register_script("return 0")

    async def setup(self) -> None:
        await self.redis.script_load("return 0")

    async def verify(self, code: str) -> str:
        await self.redis.evalsha(self.script.sha, 1, f"floor:{{{PHONE}}}")
        attempt_log.info("otp.floor", extra={"event": "otp.floor", "phone": "ending in 0123"})
        return "wrong_code"


class ThroughService:
    """`OtpService.verify_code` (phone parsing, digest, one EVALSHA, audit record, metric)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.service = service(RedisOtpStore(redis, key_prefix=f"ratio-{os.getpid()}"))

    async def setup(self) -> None:
        assert (await self.service.request_code(PHONE, session_id="ratio")).status == "sent"
        await self.service.drain()

    async def verify(self, code: str) -> str:
        return (await self.service.verify_code(PHONE, code, session_id="ratio")).status


Side = SeedAsCommands | EmptyScript | ThroughService


async def rate(impl: Side, seconds: float, concurrency: int = 64) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await impl.verify("000000")
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


async def ratios(url: str, seconds: float, rounds: int) -> None:
    """Median verify rate of each side over interleaved rounds, on one shared client."""
    handler = logging.FileHandler(os.devnull)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    saved, saved_handlers = root.level, root.handlers[:]
    root.handlers = [handler]  # this handler only: every side pays the same for its record
    root.setLevel(logging.INFO)
    pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=64, timeout=5)
    redis = aioredis.Redis(connection_pool=pool)
    sides: dict[str, Side] = {
        "service": ThroughService(redis),
        "seed": SeedAsCommands(redis),
        "floor": EmptyScript(redis),
    }
    try:
        for side in sides.values():
            await side.setup()
            await rate(side, 0.2)  # warm: scripts loaded, connections open
        for concurrency in (1, 64):
            rates: dict[str, list[float]] = {name: [] for name in sides}
            for index in range(rounds):
                for name in round_order(list(sides), index):
                    rates[name].append(await rate(sides[name], seconds, concurrency))
            report(concurrency, rounds, rates)
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved)
        handler.close()
        await redis.aclose()


def report(concurrency: int, rounds: int, rates: dict[str, list[float]]) -> None:
    median = {name: statistics.median(values) for name, values in rates.items()}
    shape = "one at a time (one call per process)" if concurrency == 1 else "64 concurrent tasks"
    print(f"verify_code, {shape}, one log record per attempt, median of {rounds} rounds:")
    for name, values in rates.items():
        print(f"  {name:8s} {median[name]:8.0f} ops/s   (rounds: "
              f"{', '.join(f'{v:.0f}' for v in values)})")  # fmt: skip
    print(f"  service / seed-as-commands = {median['service'] / median['seed']:.2f}x")
    print(f"  service / empty EVALSHA    = {median['service'] / median['floor']:.2f}x")


async def main(seconds: float, ratio_seconds: float, rounds: int) -> None:
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
        await ratios(url, ratio_seconds, rounds)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)  # the audit trail is not what is measured here
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--ratio-seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.ratio_seconds, args.rounds))
