"""Fixtures for the Redis Cluster tests: one private 3-node cluster per session.

Where `redis-server` or `redis-cli` is missing these tests skip with the reason, unless
`REQUIRE_REDIS=1` (set by `.ci/run`), in which case they fail. Any other trouble starting
the cluster is a failure everywhere, never a skip.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.support.redis_cluster import RedisClusterProcesses
from verification import RedisOtpStore

REQUIRE_REDIS = os.environ.get("REQUIRE_REDIS") == "1"


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterProcesses]:
    try:
        cluster = RedisClusterProcesses(tmp_path_factory.mktemp("redis-cluster"))
    except FileNotFoundError as exc:
        if REQUIRE_REDIS:
            pytest.fail(f"REQUIRE_REDIS=1 but the Redis Cluster tests cannot run: {exc}")
        pytest.skip(
            f"{exc}; install Redis (redis-server, and redis-cli from redis-tools) "
            "to run the Redis Cluster tests"
        )
    cluster.start()  # anything but missing binaries fails the tests
    yield cluster
    cluster.stop()


@pytest.fixture
def cluster_url(redis_cluster: RedisClusterProcesses) -> str:
    return redis_cluster.url


@pytest.fixture
async def cluster_store(cluster_url: str, key_prefix: str) -> AsyncIterator[RedisOtpStore]:
    store = RedisOtpStore.from_url(cluster_url, cluster=True, key_prefix=key_prefix)
    yield store
    await store.aclose()
