"""A cold Cluster client handed many operations at once answers them all (no crash)."""

from __future__ import annotations

import asyncio

from verification import OtpPolicy, RedisOtpStore


async def test_parallel_first_operations_on_a_cold_client(
    cluster_url: str, key_prefix: str
) -> None:
    """redis-py 8.1 crashed here with AttributeError (a connection handed to two commands)
    until the store let its first operation initialise the client alone."""
    for _ in range(3):
        store = RedisOtpStore.from_url(cluster_url, cluster=True, key_prefix=key_prefix)
        results = await asyncio.gather(
            *(
                store.check(f"+1415555{i:04d}", "c", b"d" * 32, OtpPolicy(), caller="anonymous")
                for i in range(30)
            )
        )
        await store.aclose()
        assert {r.status for r in results} == {"no_code"}
