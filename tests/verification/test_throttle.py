"""IdentityThrottle (issue 9 item 2's mechanism) on SQLite and a real Redis.

Knowledge-based answers are counted before they are checked, per patient record across all
calls and per caller number across records, in the shared store: parallel attempts never
get more through than the limit, a redial (new objects on the same file or server) resets
nothing, and a refusal counts nothing.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from tests.support.constants import PEPPER
from verification import (
    IdentityThrottle,
    KnowledgePolicy,
    OtpStore,
    RedisOtpStore,
    SqliteOtpStore,
    StoreUnavailable,
)

POLICY = KnowledgePolicy(max_failures_per_record=3, max_failures_per_caller=5, window_seconds=600)
CALLER = "+12125550100"


def _open(backend: str, where: str) -> OtpStore:
    if backend == "sqlite":
        return SqliteOtpStore(where)
    url, prefix = where.split("|")
    return RedisOtpStore.from_url(url, key_prefix=prefix)


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, key_prefix: str) -> tuple[str, str]:
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "otp.sqlite3")
    return "redis", f"{request.getfixturevalue('redis_url')}|{key_prefix}"


def throttle(store: OtpStore) -> IdentityThrottle:
    return IdentityThrottle(store, POLICY, pepper=PEPPER)


async def test_a_record_locks_after_its_limit_from_any_caller(store: OtpStore) -> None:
    t = throttle(store)
    allowed = [
        (await t.attempt(record_id="P1", caller_phone=f"+1212555010{i}")).allowed for i in range(4)
    ]
    assert allowed == [True, True, True, False]
    refused = await t.attempt(record_id="P1", caller_phone="+16505550000")
    assert not refused.allowed
    assert refused.retry_after_seconds is not None and 590 <= refused.retry_after_seconds <= 600


async def test_a_caller_locks_after_its_limit_across_records(store: OtpStore) -> None:
    t = throttle(store)
    allowed = [(await t.attempt(record_id=f"P{i}", caller_phone=CALLER)).allowed for i in range(6)]
    assert allowed == [True] * 5 + [False]
    # the same number written another way is the same caller
    assert not (await t.attempt(record_id="P9", caller_phone="(212) 555-0100")).allowed
    # another caller still has its own allowance on a fresh record
    assert (await t.attempt(record_id="P9", caller_phone="+16505550000")).allowed


async def test_a_refusal_counts_nothing(store: OtpStore) -> None:
    """The record is full: the caller's count must not grow (and the other way round)."""
    t = throttle(store)
    for i in range(3):
        assert (await t.attempt(record_id="full", caller_phone=f"+1650555000{i}")).allowed
    for _ in range(10):
        assert not (await t.attempt(record_id="full", caller_phone=CALLER)).allowed
    # CALLER was refused ten times, yet still has all five of its own attempts
    assert [
        (await t.attempt(record_id=f"R{i}", caller_phone=CALLER)).allowed for i in range(6)
    ] == [True] * 5 + [False]
    # and a caller at its limit does not use up a record: fresh record "R9" (refused above
    # only because of the caller) still takes three from other callers
    assert [
        (await t.attempt(record_id="R9", caller_phone=f"+1415555000{i}")).allowed for i in range(4)
    ] == [True, True, True, False]


async def test_success_gives_back_what_the_attempt_counted(store: OtpStore) -> None:
    t = throttle(store)
    for _ in range(10):
        assert (await t.attempt(record_id="P1", caller_phone=CALLER)).allowed
        await t.succeeded(record_id="P1", caller_phone=CALLER)
    # give-backs never go below zero: exactly the limit is left, no more
    for _ in range(5):
        await t.succeeded(record_id="P1", caller_phone=CALLER)
    allowed = [(await t.attempt(record_id="P1", caller_phone=CALLER)).allowed for _ in range(4)]
    assert allowed == [True, True, True, False]


async def test_withheld_caller_is_bounded_by_the_record(store: OtpStore) -> None:
    t = throttle(store)
    allowed = [(await t.attempt(record_id="P1", caller_phone=None)).allowed for _ in range(4)]
    assert allowed == [True, True, True, False]
    # no record and no caller: nothing to count against
    assert (await t.attempt(record_id=None, caller_phone=None)).allowed


async def test_parallel_attempts_never_let_more_through(store: OtpStore) -> None:
    t = throttle(store)
    decisions = await asyncio.gather(
        *(t.attempt(record_id="P1", caller_phone=f"+1212555{i:04d}") for i in range(40))
    )
    assert sum(d.allowed for d in decisions) == 3
    decisions = await asyncio.gather(
        *(t.attempt(record_id=f"Q{i}", caller_phone=CALLER) for i in range(40))
    )
    assert sum(d.allowed for d in decisions) == 5


def _attempts(backend: str, where: str, record: str, tasks: int, start_at: float) -> int:
    async def main() -> int:
        store = _open(backend, where)
        t = throttle(store)
        await asyncio.sleep(max(0.0, start_at - time.time()))
        decisions = await asyncio.gather(
            *(t.attempt(record_id=record, caller_phone=f"+1212555{i:04d}") for i in range(tasks))
        )
        await store.aclose()
        return sum(d.allowed for d in decisions)

    return asyncio.run(main())


def test_parallel_attempts_from_several_processes_never_let_more_through(
    backend: tuple[str, str],
) -> None:
    start_at = time.time() + 1.0
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(4, mp_context=context) as pool:
        futures = [pool.submit(_attempts, *backend, "P1", 10, start_at) for _ in range(4)]
        assert sum(f.result() for f in futures) == POLICY.max_failures_per_record


async def test_a_redial_resets_nothing(backend: tuple[str, str]) -> None:
    first = _open(*backend)
    for _ in range(3):
        assert (await throttle(first).attempt(record_id="P1", caller_phone=CALLER)).allowed
    await first.aclose()
    second = _open(*backend)  # a new call process: new objects, same file or server
    try:
        assert not (await throttle(second).attempt(record_id="P1", caller_phone=CALLER)).allowed
    finally:
        await second.aclose()


async def test_counters_never_hold_the_number_or_record_id_in_clear(
    redis_url: str, key_prefix: str, redis_client: object
) -> None:
    store = RedisOtpStore.from_url(redis_url, key_prefix=key_prefix)
    await throttle(store).attempt(record_id="patient-42", caller_phone=CALLER)
    keys = await redis_client.keys(f"{key_prefix}:*")  # type: ignore[attr-defined]
    await store.aclose()
    counters = [k for k in keys if b":op:" not in k]  # the rest: each take's replay memory
    assert len(counters) == 2 and len(keys) == 4
    assert not any(b"patient-42" in k or b"2125550100" in k for k in keys)


async def test_store_down_raises_store_unavailable(tmp_path: Path) -> None:
    from tests.support.ports import free_port

    store = RedisOtpStore.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.2)
    with pytest.raises(StoreUnavailable):
        await throttle(store).attempt(record_id="P1", caller_phone=CALLER)
    await store.aclose()


# -- a phone proven in the call (issue 15.3) ----------------------------------------------


async def test_a_proven_shared_phone_is_not_blocked_by_a_strangers_record_failures(
    store: OtpStore,
) -> None:
    """Three wrong dates of birth for Lucas by a stranger fill Lucas's record counter; Maria,
    who shares Lucas's phone and proved it with a code, can still name Lucas, on a small
    counter of her own per (record, proven phone)."""
    t = IdentityThrottle(store, KnowledgePolicy(max_failures_per_proven_phone=2), pepper=PEPPER)
    for i in range(3):
        assert (await t.attempt(record_id="lucas", caller_phone=f"+1212555010{i}")).allowed
    assert not (await t.attempt(record_id="lucas", caller_phone=None)).allowed

    shared = "+14155550123"
    maria = [
        (await t.attempt(record_id="lucas", caller_phone=shared, proven_phone=shared)).allowed
        for _ in range(3)
    ]
    assert maria == [True, True, False]  # her own small counter, not the stranger's
    # a success gives back exactly what the proven attempt counted
    await t.succeeded(record_id="lucas", caller_phone=shared, proven_phone=shared)
    assert (await t.attempt(record_id="lucas", caller_phone=shared, proven_phone=shared)).allowed
    # another proven phone has a counter of its own; the record counter is still full
    other = await t.attempt(record_id="lucas", caller_phone=None, proven_phone="+14155550188")
    assert other.allowed
    assert not (await t.attempt(record_id="lucas", caller_phone=None)).allowed


async def test_a_proven_phone_that_is_not_a_number_proves_nothing(store: OtpStore) -> None:
    t = throttle(store)
    for _ in range(3):
        await t.attempt(record_id="P1", caller_phone=None)
    refused = await t.attempt(record_id="P1", caller_phone=None, proven_phone="not a number")
    assert not refused.allowed  # charged to the record counter, which is full


# -- keyed counters for a host's own quotas (issue 18.4) -----------------------------------


async def test_keyed_counters_name_a_counter_without_the_id(store: OtpStore) -> None:
    from verification import KeyedCounters

    counters = KeyedCounters(store, pepper=PEPPER)
    booking = counters.subject("booking", "patient-42")
    assert booking.startswith("booking:") and "patient-42" not in booking
    assert booking != KeyedCounters(store, pepper=b"another-pepper-0123456789").subject(
        "booking", "patient-42"
    )  # keyed: no one without the pepper can recompute it from a list of ids
    assert booking != counters.subject("record", "patient-42")

    assert [await counters.take([(booking, 2)], 600) for _ in range(3)][:2] == [None, None]
    assert (await counters.take([(booking, 2)], 600) or 0) > 500
    await counters.give_back([booking])
    assert await counters.take([(booking, 2)], 600) is None


async def test_the_service_names_counters_with_its_own_pepper(tmp_path: Path) -> None:
    from tests.support.sms import RecordingSmsSender, StaticDirectory
    from verification import OtpService

    store = SqliteOtpStore(tmp_path / "otp.sqlite3")
    service = OtpService(store, RecordingSmsSender(), StaticDirectory(set()), pepper=PEPPER)
    subject = service.counters.subject("booking", "patient-42")
    assert subject == IdentityThrottle(store, pepper=PEPPER).counters.subject(
        "booking", "patient-42"
    )
    assert await service.counters.take([(subject, 1)], 60) is None
    assert await service.counters.take([(subject, 1)], 60) is not None
    await service.aclose()
