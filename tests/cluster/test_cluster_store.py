"""`RedisOtpStore` on a real 3-node Redis Cluster (see conftest): the same outcomes as on one
server, phones whose slots live on different nodes, the hash tag as the reason each script
stays in one slot, and exact counting under parallel guesses.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot
from redis.exceptions import ClusterCrossSlotError, RedisClusterException

from tests.support.constants import PEPPER
from tests.support.ports import free_port
from tests.support.redis_cluster import RedisClusterProcesses
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpPolicy, OtpService, RedisOtpStore
from verification.stores.base import CALLER_WITHHELD
from verification.stores.redis import _SCRIPTS

POLICY = OtpPolicy(max_attempts=3, max_phone_failures=5, max_sends=10, resend_cooldown_seconds=0)


def wrong(code: str) -> str:
    """A well-formed code that is certainly not `code`."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def slot_owners(port: int) -> dict[int, int]:
    """slot -> port of the primary serving it, as the cluster itself reports (CLUSTER SLOTS)."""
    node = aioredis.Redis(port=port)
    try:
        ranges = await node.execute_command("CLUSTER", "SLOTS")  # type: ignore[no-untyped-call]
    finally:
        await node.aclose()
    return {
        slot: int(primary[1])
        for start, end, primary, *_ in ranges
        for slot in range(start, end + 1)
    }


def phones_on_each_node(store: RedisOtpStore, owners: dict[int, int]) -> dict[int, str]:
    """One +1 415 555 01xx number per node, chosen by where its hash-tag slot lives."""
    found: dict[int, str] = {}
    for last in range(100, 200):
        phone = f"+14155550{last}"
        found.setdefault(owners[key_slot(store.keys_for(phone).code.encode())], phone)
    return found


@pytest.fixture
def sender() -> RecordingSmsSender:
    return RecordingSmsSender()


@pytest.fixture
async def node_phones(
    redis_cluster: RedisClusterProcesses, cluster_store: RedisOtpStore
) -> dict[int, str]:
    owners = await slot_owners(redis_cluster.ports[0])
    phones = phones_on_each_node(cluster_store, owners)
    assert len(phones) == len(redis_cluster.ports) >= 2, "test numbers should span every node"
    return phones


@pytest.fixture
async def service(
    cluster_store: RedisOtpStore, sender: RecordingSmsSender, node_phones: dict[int, str]
) -> AsyncIterator[OtpService]:
    yield OtpService(
        cluster_store,
        sender,
        StaticDirectory(set(node_phones.values())),
        POLICY,
        pepper=PEPPER,
        clinic_name="Bayview Clinic",
    )


# -- (a) OtpService end to end on the cluster ---------------------------------------------


async def test_request_and_verify_end_to_end(
    service: OtpService, sender: RecordingSmsSender, node_phones: dict[int, str]
) -> None:
    phone = next(iter(node_phones.values()))
    sent = await service.request_code(phone, session_id="c")
    await service.drain()
    assert sent.status == "sent" and [to for to, _ in sender.sent] == [phone]
    code = sender.last_code()

    assert (await service.verify_code(phone, code, session_id="other-call")).status == "no_code"
    first = await service.verify_code(phone, code, session_id="c")
    replay = await service.verify_code(phone, code, session_id="c")
    assert first.status == "verified" and first.verified
    assert replay.status == "no_code" and not replay.verified


async def test_wrong_guesses_count_down_burn_then_lock(
    service: OtpService, sender: RecordingSmsSender, node_phones: dict[int, str]
) -> None:
    phone = next(iter(node_phones.values()))
    await service.request_code(phone, session_id="c")
    await service.drain()
    code = sender.last_code()

    results = [await service.verify_code(phone, wrong(code), session_id="c") for _ in range(3)]
    assert [(r.status, r.attempts_left) for r in results] == [
        ("wrong_code", 2),
        ("wrong_code", 1),
        ("wrong_code", 0),
    ]
    assert (await service.verify_code(phone, code, session_id="c")).status == "no_code"  # burned

    # a resend issues a new code but keeps the failure count (3 of max_phone_failures=5)
    assert (await service.request_code(phone, session_id="c")).status == "sent"
    await service.drain()
    code = sender.last_code()
    assert (await service.verify_code(phone, wrong(code), session_id="c")).status == "wrong_code"
    locking = await service.verify_code(phone, wrong(code), session_id="c")
    assert locking.status == "locked" and not locking.verified and "staff" in locking.message
    assert locking.retry_after_seconds is not None and locking.retry_after_seconds > 80_000

    assert (await service.verify_code(phone, code, session_id="c")).status == "locked"
    assert (await service.request_code(phone, session_id="c")).status == "locked"
    await service.drain()
    assert len(sender.sent) == 2


# -- (b) phones on different nodes: each script runs in its phone's one slot ---------------


async def test_phones_on_every_node_work_and_keep_their_keys_in_one_slot(
    redis_cluster: RedisClusterProcesses,
    cluster_store: RedisOtpStore,
    service: OtpService,
    sender: RecordingSmsSender,
    node_phones: dict[int, str],
) -> None:
    for port, phone in node_phones.items():
        assert (await service.request_code(phone, session_id=f"call-{port}")).status == "sent"
        await service.drain()
        code = sender.last_code()
        bad = await service.verify_code(phone, wrong(code), session_id=f"call-{port}")
        assert (bad.status, bad.attempts_left) == ("wrong_code", 2)

        # every key of the phone hashes to one slot (the tag), held by the node we expected;
        # the keys this call created: its code, the phone's sends and failures (a withheld
        # caller ID has no counters of its own) and each operation's replay memory
        keys = cluster_store.keys_for(phone, f"call-{port}", CALLER_WITHHELD)
        slots = {key_slot(key.encode()) for key in keys}
        assert len(slots) == 1
        owner = aioredis.Redis(port=port)
        try:
            in_slot = await owner.execute_command(  # type: ignore[no-untyped-call]
                "CLUSTER", "GETKEYSINSLOT", slots.pop(), 1000
            )
        finally:
            await owner.aclose()
        mine = {
            key.decode() for key in in_slot if key.startswith(cluster_store.key_prefix.encode())
        }
        replies = {key for key in mine if ":op:" in key}
        assert len(replies) == 2  # the request and the guess
        assert mine - replies == {keys.code, keys.phone_sends, keys.phone_failures}

        good = await service.verify_code(phone, code, session_id=f"call-{port}")
        assert good.status == "verified"


async def test_scripts_reload_after_script_flush_on_every_node(
    redis_cluster: RedisClusterProcesses,
    service: OtpService,
    sender: RecordingSmsSender,
    node_phones: dict[int, str],
) -> None:
    """NOSCRIPT (a restarted or new node has no scripts) is answered by loading them again."""
    phone = next(iter(node_phones.values()))
    await service.request_code(phone, session_id="c")
    await service.drain()
    for port in redis_cluster.ports:
        node = aioredis.Redis(port=port)
        await node.script_flush()
        await node.aclose()
    assert (await service.verify_code(phone, sender.last_code(), session_id="c")).verified


# -- (c) negative control: without the hash tag the same script is refused -----------------


async def test_untagged_keys_would_fail_with_crossslot(
    redis_cluster: RedisClusterProcesses, cluster_url: str
) -> None:
    store = RedisOtpStore.from_url(cluster_url, cluster=True)  # default prefix "otp"
    phone_keys = store.keys_for("+14155550123", "c", "a1b2c3")  # otp:{+14155550123}:...
    # check.lua's keys: the code, the caller's, the phone's and the reserve's failures, the
    # operation's replay memory
    tagged = [*phone_keys[:1], *phone_keys[4:], store.op_key("+14155550123", "op1")]
    untagged = [key.replace("{", "").replace("}", "") for key in tagged]
    challenge, failures = untagged[0], untagged[2]  # otp:+14155550123:code:c, ...:failures
    assert key_slot(challenge.encode()) != key_slot(failures.encode())
    check_lua = _SCRIPTS["check"].script
    args: list[str | bytes | int] = [b"\x00" * 32, "op1", "other", 3, 10, 97, 3, 86_400_000]

    # the server refuses a script over keys in two slots (CROSSSLOT) ...
    owners = await slot_owners(redis_cluster.ports[0])
    node = aioredis.Redis(port=owners[key_slot(challenge.encode())])
    try:
        with pytest.raises(ClusterCrossSlotError, match="same slot"):
            await node.eval(check_lua, 5, *untagged, *args)
    finally:
        await node.aclose()

    # ... while the same script over the tagged keys runs through the cluster client (no
    # challenge yet: no_code) ...
    client = store.client
    try:
        reply = await client.eval(check_lua, 5, *tagged, *args)
        assert reply[0] == b"no_code"
        # ... which, knowing the slot map, will not even send the untagged one. (A cold
        # client sends its first command to any primary and follows MOVED; that node would
        # answer CROSSSLOT as above.)
        with pytest.raises(RedisClusterException, match="same key slot"):
            await client.eval(check_lua, 5, *untagged, *args)
    finally:
        await client.aclose()


# -- (d) exact counting under parallel guesses ---------------------------------------------


async def test_50_parallel_wrong_guesses_count_exactly_max_attempts(
    service: OtpService, sender: RecordingSmsSender, node_phones: dict[int, str]
) -> None:
    phones = list(node_phones.values())
    codes = {}
    for phone in phones:
        await service.request_code(phone, session_id="race")
        await service.drain()
        codes[phone] = sender.last_code()

    # 50 wrong guesses per phone, all phones (all nodes) at once
    guesses = [
        service.verify_code(phone, wrong(codes[phone]), session_id="race")
        for _ in range(50)
        for phone in phones
    ]
    outcomes = await asyncio.gather(*guesses)

    for i, phone in enumerate(phones):
        mine = outcomes[i :: len(phones)]
        counts = Counter(o.status for o in mine)
        assert counts == Counter(wrong_code=POLICY.max_attempts, no_code=50 - POLICY.max_attempts)
        assert sorted(o.attempts_left or 0 for o in mine if o.status == "wrong_code") == [0, 1, 2]
        assert (await service.verify_code(phone, codes[phone], session_id="race")).status == (
            "no_code"
        )


async def test_a_small_pool_queues_a_burst_instead_of_failing(
    cluster_url: str, key_prefix: str, sender: RecordingSmsSender, node_phones: dict[int, str]
) -> None:
    """Cluster's per-node pools raise when full; the store makes the extra operations wait."""
    store = RedisOtpStore.from_url(
        cluster_url, cluster=True, key_prefix=key_prefix, max_connections=2
    )
    phone = next(iter(node_phones.values()))
    service = OtpService(store, sender, StaticDirectory({phone}), POLICY, pepper=PEPPER)
    await service.request_code(phone, session_id="race")
    await service.drain()
    code = sender.last_code()

    outcomes = await asyncio.gather(
        *(service.verify_code(phone, wrong(code), session_id="race") for _ in range(50))
    )

    assert Counter(o.status for o in outcomes) == Counter(wrong_code=3, no_code=47)
    await service.aclose()


# -- an unreachable cluster is an outcome, never a crash ----------------------------------


async def test_unreachable_cluster_is_unavailable_for_both_operations() -> None:
    sender = RecordingSmsSender()
    store = RedisOtpStore.from_url(
        f"redis://127.0.0.1:{free_port()}/0", cluster=True, socket_timeout=0.5
    )
    service = OtpService(store, sender, StaticDirectory({"+14155550123"}), pepper=PEPPER)

    requested = await service.request_code("+14155550123", session_id="c")
    await service.drain()
    checked = await service.verify_code("+14155550123", "123456", session_id="c")

    assert requested.status == "unavailable" and "staff" in requested.message
    assert checked.status == "unavailable" and not checked.verified
    assert sender.sent == []
    await service.aclose()


async def test_a_dead_primary_makes_only_its_phones_unavailable(
    tmp_path_factory: pytest.TempPathFactory, redis_cluster: RedisClusterProcesses
) -> None:
    """On a cluster of its own (this one is killed): one primary down answers "unavailable"
    for the phones whose slots it held, never a crash or a grant; the others carry on."""
    cluster = RedisClusterProcesses(tmp_path_factory.mktemp("redis-cluster-fault"))
    cluster.start()
    try:
        store = RedisOtpStore.from_url(cluster.url, cluster=True, socket_timeout=0.5)
        phones = phones_on_each_node(store, await slot_owners(cluster.ports[0]))
        sender = RecordingSmsSender()
        service = OtpService(
            store, sender, StaticDirectory(set(phones.values())), POLICY, pepper=PEPPER
        )
        codes = {}
        for phone in phones.values():
            assert (await service.request_code(phone, session_id="c")).status == "sent"
            await service.drain()
            codes[phone] = sender.last_code()

        dead_port = cluster.ports[1]
        cluster.processes[1].kill()
        cluster.processes[1].wait(timeout=10)

        for port, phone in phones.items():
            outcome = await service.verify_code(phone, codes[phone], session_id="c")
            if port == dead_port:
                assert outcome.status == "unavailable" and not outcome.verified
                assert "staff" in outcome.message
            else:
                assert outcome.status == "verified"
        await service.aclose()
    finally:
        cluster.stop()
