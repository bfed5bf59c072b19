"""Per-call codes, per-caller limits, the knowledge throttle and shared SMS breakers on a
real 3-node Redis Cluster: every script touches one slot, so none is refused CROSSSLOT."""

from __future__ import annotations

import asyncio

from redis.crc import key_slot

from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import IdentityThrottle, KnowledgePolicy, OtpPolicy, OtpService, RedisOtpStore
from verification.codes import caller_reference

PEPPER = b"test-pepper-0123456789abcdef"
PHONE = "+14155550123"


async def test_calls_and_callers_keep_their_own_codes_and_limits(
    cluster_store: RedisOtpStore,
) -> None:
    sender = RecordingSmsSender()
    policy = OtpPolicy(max_attempts=3, max_failures=3, max_phone_failures=50)
    service = OtpService(cluster_store, sender, StaticDirectory({PHONE}), policy, pepper=PEPPER)
    await service.request_code(PHONE, session_id="A", caller_phone="+16505550001")
    await service.drain()
    code_a = sender.last_code()
    await service.request_code(PHONE, session_id="B", caller_phone="+12125550100")
    for _ in range(3):
        await service.verify_code(PHONE, "000000", session_id="B", caller_phone="+12125550100")

    locked = await service.request_code(PHONE, session_id="B2", caller_phone="+12125550100")
    assert locked.status == "locked"  # the stranger, not the patient
    ok = await service.verify_code(PHONE, code_a, session_id="A", caller_phone="+16505550001")
    assert ok.verified
    keys = cluster_store.keys_for(PHONE, "A", caller_reference(PEPPER, "+16505550001"))
    assert len({key_slot(k.encode()) for k in keys}) == 1


async def test_the_knowledge_throttle_counts_exactly_across_slots(
    cluster_store: RedisOtpStore,
) -> None:
    """Record and caller counters live in different slots (two scripts); parallel attempts
    still let exactly the limit through, and a refusal by the caller gives the record back."""
    throttle = IdentityThrottle(cluster_store, KnowledgePolicy(3, 5, 600), pepper=PEPPER)
    assert key_slot(cluster_store.subject_key("record:x").encode()) != key_slot(
        cluster_store.subject_key("caller:y").encode()
    )
    decisions = await asyncio.gather(
        *(throttle.attempt(record_id="P1", caller_phone=f"+1212555{i:04d}") for i in range(30))
    )
    assert sum(d.allowed for d in decisions) == 3
    caller = "+16505550009"
    for i in range(5):
        assert (await throttle.attempt(record_id=f"Q{i}", caller_phone=caller)).allowed
    assert not (await throttle.attempt(record_id="fresh", caller_phone=caller)).allowed
    allowed = [
        (await throttle.attempt(record_id="fresh", caller_phone=f"+1415555{i:04d}")).allowed
        for i in range(4)
    ]
    assert allowed == [True, True, True, False]


async def test_sms_breakers_are_shared_through_the_cluster(cluster_store: RedisOtpStore) -> None:
    for _ in range(2):
        assert await cluster_store.breaker_allow("twilio", 5.0)
        await cluster_store.breaker_record("twilio", failed=True, threshold=2, cooloff_seconds=60)
    assert not await cluster_store.breaker_allow("twilio", 5.0)
    await cluster_store.breaker_record("twilio", failed=False, threshold=2, cooloff_seconds=60)
    assert await cluster_store.breaker_allow("twilio", 5.0)


async def test_the_daily_send_budget_is_one_counter_for_every_phone(
    cluster_store: RedisOtpStore,
) -> None:
    """The budget's counter has its own slot; phones in other slots are charged to it."""
    sender = RecordingSmsSender()
    phones = ["+14155550123", "+14155550188", "+14155550199"]
    slots = {key_slot(cluster_store.keys_for(phone).code.encode()) for phone in phones}
    assert len(slots) == 3
    policy = OtpPolicy(daily_send_budget=2)
    service = OtpService(cluster_store, sender, StaticDirectory(set(phones)), policy, pepper=PEPPER)
    statuses = [(await service.request_code(p, session_id=f"s-{p}")).status for p in phones]
    await service.drain()
    assert statuses == ["sent", "sent", "unavailable"] and len(sender.sent) == 2


async def test_the_owners_reserve_and_its_keys_share_the_phones_slot(
    cluster_store: RedisOtpStore,
) -> None:
    """Issue 15.1 on Cluster: past the ceilings only the phone itself is served, from the
    reserve's own windows, whose keys (like every key of the phone) sit in the phone's slot."""
    sender = RecordingSmsSender()
    policy = OtpPolicy(
        max_attempts=3, max_phone_failures=2, max_phone_sends=1, owner_reserve_failures=1,
        resend_cooldown_seconds=0,
    )  # fmt: skip
    service = OtpService(cluster_store, sender, StaticDirectory({PHONE}), policy, pepper=PEPPER)
    stranger = "+12125550100"
    await service.request_code(PHONE, session_id="s", caller_phone=stranger)
    guesses = [
        (await service.verify_code(PHONE, "000000", session_id="s", caller_phone=stranger)).status
        for _ in range(2)
    ]
    if "verified" in guesses:
        return  # drew 000000 as the real code
    assert guesses == ["wrong_code", "locked"]
    assert (await service.request_code(PHONE, session_id="w")).status == "locked"  # withheld
    own = await service.request_code(PHONE, session_id="own", caller_phone=PHONE)
    assert own.status == "sent"  # from the reserve: both ceilings are full
    keys = cluster_store.keys_for(PHONE, "own", "own")
    assert len({key_slot(k.encode()) for k in (*keys, cluster_store.op_key(PHONE, "x"))}) == 1
