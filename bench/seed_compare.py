"""Benchmark our Redis code store (one Lua script per guess) against the seed guide's algorithm
done the straightforward way on Redis (several commands per guess), in the same run.

The seed (`/work/shared/seed/otp-implementation-guide.md`, `verify_otp`) reads the record,
checks expiry and attempts, compares, then bumps `attempts` or deletes the record. On Redis
that becomes, per guess:

* naive-rmw: GET the JSON record, compare, SET it back with attempts + 1 (KEEPTTL), or DEL it
  on success / when burned: the seed's `stored["attempts"] += 1`, a read-modify-write;
* naive-incr: HGETALL the record, compare, HINCRBY attempts, or DEL on success / burn: the
  counter itself is atomic, but the limit check still happens before it, in another trip.

Ours is `RedisOtpStore.check`: one EVALSHA that checks and counts atomically (rule 3).
All three are driven at the store level (no HMAC, no audit log, no SMS) with the same
connection pool (blocking, 64 connections), the same wrong guess against one live code (the
full write path; limits set high so the code never burns), at 1 and 64 concurrent tasks.
Round trips are requests the client writes to its sockets (as in `bench/otp_store.py`).

    uv run python bench/seed_compare.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis.asyncio as aioredis

from tests.support.redis_server import RedisServer
from verification import OtpPolicy, RedisOtpStore
from verification.codes import code_digest
from verification.stores.base import CALLER_WITHHELD

PHONE = "+14155550123"
PEPPER = b"bench-seed-pepper-0123456789abcdef"
SESSION = "bench"
WRONG = "000000"
HIGH = 10**9
NO_LIMITS = OtpPolicy(
    max_attempts=HIGH,
    max_failures=HIGH,
    max_phone_failures=HIGH,
    max_sends=HIGH,
    max_phone_sends=HIGH,
    resend_cooldown_seconds=0,
)
PARALLEL_GUESSES = 50

Counting = Literal["rmw", "incr"]
Verify = Callable[[str], Awaitable[str]]


class CountingConnection(aioredis.Connection):
    """A redis-py connection that counts the requests it writes (a pipeline counts once)."""

    sent = 0

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sent += 1
        await super().send_packed_command(command, check_health)


def client(url: str) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        url, connection_class=CountingConnection, max_connections=64, timeout=5
    )
    return aioredis.Redis(connection_pool=pool)


class NaiveSeedStore:
    """The seed guide's `generate_otp` / `verify_otp` on Redis, one command per step."""

    def __init__(self, redis: aioredis.Redis, counting: Counting, *, max_attempts: int) -> None:
        self.redis = redis
        self.counting = counting
        self.max_attempts = max_attempts
        self.prefix = f"seed-{counting}-{secrets.token_hex(4)}"

    def key(self, phone: str) -> str:
        return f"{self.prefix}:{{{phone}}}"

    async def generate(self, phone: str, code: str, ttl_seconds: int = 300) -> None:
        record: dict[Any, Any] = {
            "code": code,
            "expires_at": time.time() + ttl_seconds,
            "attempts": 0,
        }
        if self.counting == "rmw":
            await self.redis.set(self.key(phone), json.dumps(record), ex=ttl_seconds)
        else:
            await self.redis.delete(self.key(phone))
            await self.redis.hset(self.key(phone), mapping=record)
            await self.redis.expire(self.key(phone), ttl_seconds)

    async def attempts(self, phone: str) -> int:
        if self.counting == "rmw":
            raw = await self.redis.get(self.key(phone))
            return int(json.loads(raw)["attempts"]) if raw else -1
        value = await self.redis.hget(self.key(phone), "attempts")
        return int(value) if value is not None else -1

    async def verify(self, phone: str, code: str) -> str:
        key = self.key(phone)
        if self.counting == "rmw":
            raw = await self.redis.get(key)  # trip 1
            stored = json.loads(raw) if raw else None
        else:
            fields = await self.redis.hgetall(key)  # trip 1
            stored = {_text(k): _text(v) for k, v in fields.items()} or None
        if stored is None:
            return "no_code"
        if time.time() > float(stored["expires_at"]):
            await self.redis.delete(key)
            return "expired"
        if int(stored["attempts"]) >= self.max_attempts:
            await self.redis.delete(key)
            return "burned"
        if code != stored["code"]:
            if self.counting == "rmw":
                stored["attempts"] = int(stored["attempts"]) + 1  # trip 2: write it all back
                await self.redis.set(key, json.dumps(stored), keepttl=True)
            else:
                await self.redis.hincrby(key, "attempts", 1)  # trip 2: atomic counter
            return "wrong_code"
        await self.redis.delete(key)  # trip 2
        return "verified"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class OurStore:
    """`RedisOtpStore` driven with a precomputed digest (what `OtpService` hands it)."""

    def __init__(self, redis: aioredis.Redis, policy: OtpPolicy) -> None:
        self.store = RedisOtpStore(redis, key_prefix=f"ours-{secrets.token_hex(4)}")
        self.policy = policy

    def digest(self, code: str) -> bytes:
        return code_digest(PEPPER, PHONE, SESSION, code)

    async def generate(self, phone: str, code: str) -> None:
        result = await self.store.issue(
            phone, SESSION, self.digest(code), self.policy, caller=CALLER_WITHHELD
        )
        assert result.status == "issued", result

    async def verify(self, phone: str, code: str) -> str:
        result = await self.store.check(
            phone, SESSION, self.digest(code), self.policy, caller=CALLER_WITHHELD
        )
        return result.status

    async def counters(self, phone: str) -> tuple[int, int]:
        keys = self.store.keys_for(phone, SESSION, CALLER_WITHHELD)
        redis = self.store.client
        att = await redis.hget(keys.code, "att")
        return (int(att) if att is not None else -1), int(await redis.zcard(keys.phone_failures))


async def throughput(verify: Verify, concurrency: int, seconds: float) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            status = await verify(WRONG)
            assert status == "wrong_code", status
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


async def trips(verify: Verify, code: str, n: int = 200) -> float:
    CountingConnection.sent = 0
    for _ in range(n):
        await verify(code)
    return CountingConnection.sent / n


async def main(seconds: float) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="seed-bench-"))
    server = RedisServer(tmp / "redis")
    server.start()
    redis = client(server.url)
    try:
        right = "123456"
        ours = OurStore(redis, NO_LIMITS)
        rmw = NaiveSeedStore(redis, "rmw", max_attempts=HIGH)
        incr = NaiveSeedStore(redis, "incr", max_attempts=HIGH)
        impls: dict[str, OurStore | NaiveSeedStore] = {
            "ours (Lua)": ours,
            "naive-rmw": rmw,
            "naive-incr": incr,
        }
        for impl in impls.values():
            await impl.generate(PHONE, right)
            await impl.verify(PHONE, WRONG)  # warm: loads the Lua script once

        print("Redis round trips per verify (client requests written):")
        for name, impl in impls.items():
            wrong_trips = await trips(functools.partial(impl.verify, PHONE), WRONG)

            async def issue_then_verify(code: str, impl: OurStore | NaiveSeedStore = impl) -> str:
                sent = CountingConnection.sent
                await impl.generate(PHONE, code)
                CountingConnection.sent = sent  # count the guess only
                return await impl.verify(PHONE, code)

            right_trips = await trips(issue_then_verify, right)
            await impl.generate(PHONE, right)
            print(f"  {name:<11} wrong guess {wrong_trips:.2f}   right guess {right_trips:.2f}")

        print(f"verify throughput, wrong guesses against one live code, {seconds:.0f} s each:")
        for concurrency in (1, 64):
            rates = {}
            for name, impl in impls.items():
                await impl.generate(PHONE, right)
                rates[name] = await throughput(
                    functools.partial(impl.verify, PHONE), concurrency, seconds
                )
            base = rates["ours (Lua)"]
            line = "   ".join(
                f"{name} {rate:7.0f} ops/s"
                + ("" if name.startswith("ours") else f" (ours x{base / rate:.2f})")
                for name, rate in rates.items()
            )
            print(f"  {concurrency:>2} tasks: {line}")

        await race(redis)
    finally:
        await redis.aclose()
        server.stop()


async def parallel(verify: Verify) -> Counter[str]:
    statuses = await asyncio.gather(*(verify(WRONG) for _ in range(PARALLEL_GUESSES)))
    return Counter(statuses)


async def race(redis: aioredis.Redis) -> None:
    n = PARALLEL_GUESSES
    print(
        f"{n} parallel wrong guesses against one fresh code (ours: counted = the phone's"
        " failure counter; no_code = refused after the code burned, not a guess):"
    )
    for counting in ("rmw", "incr"):
        for limit in (HIGH, 3):
            naive = NaiveSeedStore(redis, counting, max_attempts=limit)
            await naive.generate(PHONE, "123456")
            seen = await parallel(functools.partial(naive.verify, PHONE))
            counted = await naive.attempts(PHONE)
            limit_text = "no limit" if limit == HIGH else f"limit {limit}"
            print(
                f"  naive-{counting:<4} {limit_text:<8}: attempts counted {counted:>2} of {n};"
                f" guesses compared to the code {seen['wrong_code']:>2}  {dict(seen)}"
            )

    for policy, limit_text in ((NO_LIMITS, "no limit"), (OtpPolicy(), "limit 3")):
        ours = OurStore(redis, policy)
        await ours.generate(PHONE, "123456")
        seen = await parallel(functools.partial(ours.verify, PHONE))
        att, failures = await ours.counters(PHONE)
        print(
            f"  ours (Lua)  {limit_text:<8}: attempts counted {failures:>2} of {n};"
            f" guesses compared to the code {seen['wrong_code']:>2}  {dict(seen)}"
        )
        if policy is NO_LIMITS:
            assert att == failures == n
        else:
            assert seen["wrong_code"] == policy.max_attempts and failures == policy.max_attempts


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    asyncio.run(main(parser.parse_args().seconds))
