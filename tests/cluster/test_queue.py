"""The store's own queue (used for Cluster, whose per-node pools raise when full): at most
`max_in_flight` scripts at once, the rest wait their turn, and a wait past `queue_timeout`
is `StoreUnavailable`, never a crash. A stand-in client makes the timing exact."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from verification import OtpPolicy, RedisOtpStore, StoreUnavailable


class _SlowClient:
    def __init__(self, delay: float) -> None:
        self.delay, self.running, self.most = delay, 0, 0

    async def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> list[Any]:
        self.running += 1
        self.most = max(self.most, self.running)
        await asyncio.sleep(self.delay)
        self.running -= 1
        return [b"no_code", 0, 0, 0]


async def test_extra_operations_wait_their_turn() -> None:
    client = _SlowClient(delay=0.01)
    store = RedisOtpStore(client, max_in_flight=3, queue_timeout=5)
    results = await asyncio.gather(
        *(
            store.check("+14155550123", "c", b"d", OtpPolicy(), caller="anonymous")
            for _ in range(20)
        )
    )
    assert [r.status for r in results] == ["no_code"] * 20
    assert client.most == 3


async def test_a_wait_past_queue_timeout_is_unavailable() -> None:
    store = RedisOtpStore(_SlowClient(delay=0.5), max_in_flight=1, queue_timeout=0.05)
    first = asyncio.create_task(
        store.check("+14155550123", "c", b"d", OtpPolicy(), caller="anonymous")
    )
    await asyncio.sleep(0)
    with pytest.raises(StoreUnavailable, match="busy"):
        await store.check("+14155550123", "c", b"d", OtpPolicy(), caller="anonymous")
    assert (await first).status == "no_code"
