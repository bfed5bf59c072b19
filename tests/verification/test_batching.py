"""Scripts in flight together share one round trip (verification/stores/batching.py), and
nothing about counting or failure changes: on a real Redis."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from tests.support.constants import ON_FILE, PEPPER
from tests.support.redis_server import RedisServer
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpPolicy, OtpService, RedisOtpStore

POLICY = OtpPolicy(max_attempts=3, max_failures=1000, max_phone_failures=1000)


class CountingConnection(aioredis.Connection):
    writes = 0

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.writes += 1
        await super().send_packed_command(command, check_health)


def counting_store(url: str, prefix: str) -> RedisOtpStore:
    pool = aioredis.BlockingConnectionPool.from_url(
        url, connection_class=CountingConnection, max_connections=8, timeout=5
    )
    return RedisOtpStore(aioredis.Redis(connection_pool=pool), key_prefix=prefix)


async def test_parallel_guesses_share_trips_and_still_count_exactly(
    redis_url: str, key_prefix: str
) -> None:
    sender = RecordingSmsSender()
    store = counting_store(redis_url, key_prefix)
    service = OtpService(store, sender, StaticDirectory({ON_FILE}), POLICY, pepper=PEPPER)
    await service.request_code(ON_FILE, session_id="c")
    await service.drain()
    wrong = f"{(int(sender.last_code()) + 1) % 10**6:06d}"

    CountingConnection.writes = 0
    outcomes = await asyncio.gather(
        *(service.verify_code(ON_FILE, wrong, session_id="c") for _ in range(50))
    )
    assert Counter(o.status for o in outcomes) == Counter(wrong_code=3, no_code=47)
    assert [o.attempts_left for o in outcomes if o.status == "wrong_code"] == [2, 1, 0]
    assert CountingConnection.writes < 10  # 50 scripts, a handful of writes
    await service.aclose()


async def test_a_server_that_lost_its_scripts_is_answered_inside_a_batch(
    redis_url: str, key_prefix: str, redis_client: Any
) -> None:
    sender = RecordingSmsSender()
    store = RedisOtpStore.from_url(redis_url, key_prefix=key_prefix)
    service = OtpService(store, sender, StaticDirectory({ON_FILE}), POLICY, pepper=PEPPER)
    await service.request_code(ON_FILE, session_id="c")
    await service.drain()
    code = sender.last_code()
    await redis_client.script_flush()

    outcomes = await asyncio.gather(
        service.verify_code(ON_FILE, code, session_id="c"),
        *(service.verify_code(ON_FILE, "000000", session_id=f"other-{i}") for i in range(5)),
    )
    assert [o.status for o in outcomes] == ["verified"] + ["no_code"] * 5
    await service.aclose()


async def test_a_trip_that_fails_fails_every_operation_in_it_as_unavailable(
    tmp_path: Path, key_prefix: str
) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    sender = RecordingSmsSender()
    store = RedisOtpStore.from_url(server.url, key_prefix=key_prefix, socket_timeout=0.5)
    service = OtpService(store, sender, StaticDirectory({ON_FILE}), POLICY, pepper=PEPPER)
    try:
        await service.request_code(ON_FILE, session_id="c")
        await service.drain()
        code = sender.last_code()
        server.stop()
        outcomes = await asyncio.gather(
            *(service.verify_code(ON_FILE, code, session_id="c") for _ in range(10))
        )
        assert {o.status for o in outcomes} == {"unavailable"}
        assert not any(o.verified for o in outcomes)
    finally:
        await service.aclose()
        server.stop()
