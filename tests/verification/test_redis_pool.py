"""The Redis pool is sized to queue, not fail: 200 operations at once in one process all land."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.support.constants import ON_FILE, PEPPER
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpPolicy, OtpService, RedisOtpStore

POLICY = OtpPolicy(
    max_attempts=10**6,
    max_failures=10**6,
    max_phone_failures=10**6,
    max_sends=10**6,
    resend_cooldown_seconds=0,
)


@pytest.mark.parametrize("max_connections", [64, 4])  # the default, and a pool far too small
async def test_two_hundred_concurrent_operations_all_succeed(
    redis_url: str, key_prefix: str, max_connections: int
) -> None:
    store = RedisOtpStore.from_url(
        redis_url, key_prefix=key_prefix, max_connections=max_connections
    )
    sms = RecordingSmsSender()
    service = OtpService(store, sms, StaticDirectory({ON_FILE}), POLICY, pepper=PEPPER)
    try:
        await service.request_code(ON_FILE, session_id="burst")
        await service.drain()
        wrong = f"{(int(sms.last_code()) + 1) % 10**6:06d}"
        guesses = [service.verify_code(ON_FILE, wrong, session_id="burst") for _ in range(200)]
        outcomes = Counter(o.status for o in await asyncio.gather(*guesses))
    finally:
        await service.aclose()
    assert outcomes == Counter(wrong_code=200)  # none "unavailable": the pool queued them
