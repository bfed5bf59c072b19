"""A script re-sent after a dropped connection counts once on Redis Cluster too (issue 15.8).

Every node is reached through a proxy (`address_remap`, the way a client reaches a cluster
behind NAT), so the test can swallow a node's answer and cut the client off after the node
ran the script; the Cluster client re-sends, and the script answers from its memory.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from tests.support.constants import PEPPER
from tests.support.dropping_proxy import DroppingProxy
from tests.support.redis_cluster import RedisClusterProcesses
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import IdentityThrottle, KnowledgePolicy, OtpPolicy, OtpService, RedisOtpStore
from verification.stores.redis_client import _ClusterClient

PHONE = "+14155550123"
STRANGER = "+12125550100"
POLICY = OtpPolicy(max_attempts=10, max_failures=100, resend_cooldown_seconds=0)


def owner(store: RedisOtpStore, proxies: dict[int, DroppingProxy], key: str) -> DroppingProxy:
    """The proxy in front of the node that owns `key`'s slot."""
    node = store.client.get_node_from_key(key)
    (proxy,) = [p for p in proxies.values() if node.port in (p.port, p.target[1])]
    return proxy


@pytest.fixture
async def proxied(
    redis_cluster: RedisClusterProcesses, key_prefix: str
) -> AsyncIterator[tuple[RedisOtpStore, dict[int, DroppingProxy]]]:
    async with contextlib.AsyncExitStack() as stack:
        proxies = {
            port: await stack.enter_async_context(DroppingProxy(port))
            for port in redis_cluster.ports
        }

        def remap(address: tuple[str, int]) -> tuple[str, int]:
            host, port = address
            return ("127.0.0.1", proxies[port].port) if port in proxies else (host, port)

        client = _ClusterClient(
            host="127.0.0.1",
            port=redis_cluster.ports[0],
            address_remap=remap,
            socket_timeout=2.0,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=1),  # as connect()
        )
        store = RedisOtpStore(client, key_prefix=key_prefix, max_in_flight=16)
        yield store, proxies
        await store.aclose()


async def test_a_guess_resent_on_the_cluster_counts_once(
    proxied: tuple[RedisOtpStore, dict[int, DroppingProxy]],
) -> None:
    store, proxies = proxied
    sender = RecordingSmsSender()
    service = OtpService(store, sender, StaticDirectory({PHONE}), POLICY, pepper=PEPPER)
    await service.verify_code(PHONE, "000000", session_id="warm")  # scripts cached
    await service.request_code(PHONE, session_id="c", caller_phone=STRANGER)

    node = owner(store, proxies, store.keys_for(PHONE).code)
    node.drop_next_reply()
    first = await service.verify_code(PHONE, "000000", session_id="c", caller_phone=STRANGER)
    assert node.dropped == 1 and node.connections >= 2
    if first.status == "verified":
        pytest.skip("drew 000000 as the real code")
    assert (first.status, first.attempts_left) == ("wrong_code", 9)
    second = await service.verify_code(PHONE, "000000", session_id="c", caller_phone=STRANGER)
    assert (second.status, second.attempts_left) == ("wrong_code", 8)


async def test_a_counted_answer_resent_on_the_cluster_is_charged_once(
    proxied: tuple[RedisOtpStore, dict[int, DroppingProxy]],
) -> None:
    store, proxies = proxied
    throttle = IdentityThrottle(store, KnowledgePolicy(max_failures_per_record=2), pepper=PEPPER)
    assert (await throttle.attempt(record_id="warm", caller_phone=None)).allowed
    node = owner(store, proxies, store.subject_key(throttle.counters.subject("record", "P1")))
    node.drop_next_reply()
    assert (await throttle.attempt(record_id="P1", caller_phone=None)).allowed
    assert node.dropped == 1
    assert (await throttle.attempt(record_id="P1", caller_phone=None)).allowed  # 2 of 2
    assert not (await throttle.attempt(record_id="P1", caller_phone=None)).allowed
