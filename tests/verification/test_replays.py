"""A script re-sent after a dropped connection counts once (issue 15.8), on a real Redis.

redis-py re-sends a command, or a whole pipeline, once after its connection drops. If the
drop comes after the server ran the scripts, everything in it would run twice: every guess
of a batch counted twice, two sends recorded for one request, two answers charged for one.
A proxy between client and server swallows the server's answer and cuts the client off,
the way a network cut at the worst moment does; the client's re-send must find the first
answer and count nothing again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.constants import ON_FILE, PEPPER
from tests.support.dropping_proxy import DroppingProxy
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import IdentityThrottle, KnowledgePolicy, OtpPolicy, OtpService, RedisOtpStore
from verification.codes import caller_reference

STRANGER = "+12125550100"
POLICY = OtpPolicy(max_attempts=10, max_failures=100, max_sends=5, resend_cooldown_seconds=0)


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[DroppingProxy]:
    async with DroppingProxy(int(urlsplit(redis_url).port or 6379)) as dropping:
        yield dropping


@pytest.fixture
async def service(proxy: DroppingProxy, key_prefix: str) -> AsyncIterator[OtpService]:
    store = RedisOtpStore.from_url(proxy.url, key_prefix=key_prefix)
    sender = RecordingSmsSender()
    otp = OtpService(store, sender, StaticDirectory({ON_FILE}), POLICY, pepper=PEPPER)
    yield otp
    await otp.aclose()


async def warm(service: OtpService) -> None:
    """Load the scripts into the server's cache first: a NOSCRIPT answer means a script did
    not run, which is not the case under test."""
    await service.request_code(ON_FILE, session_id="warm", caller_phone="+16505550100")
    await service.verify_code(ON_FILE, "000000", session_id="no-such-call")


async def guess(service: OtpService, code: str = "000000") -> tuple[str, int | None]:
    outcome = await service.verify_code(ON_FILE, code, session_id="c", caller_phone=STRANGER)
    return outcome.status, outcome.attempts_left


async def test_a_batch_resent_after_a_dropped_connection_counts_each_guess_once(
    service: OtpService, proxy: DroppingProxy
) -> None:
    """Five concurrent guesses share one pipeline (batching.py); the answer to it is lost,
    redis-py sends the whole pipeline again, and each guess still counts once."""
    await warm(service)
    assert (await service.request_code(ON_FILE, session_id="c", caller_phone=STRANGER)).sent
    proxy.drop_next_reply()
    outcomes = await asyncio.gather(*(guess(service) for _ in range(5)))
    assert proxy.dropped == 1 and proxy.connections >= 2  # cut off, and sent again
    if any(status == "verified" for status, _ in outcomes):
        pytest.skip("drew 000000 as the real code")
    assert sorted(left or 0 for _, left in outcomes) == [5, 6, 7, 8, 9]
    assert await guess(service) == ("wrong_code", 4)  # five counted, not ten


async def test_a_single_guess_resent_counts_once(service: OtpService, proxy: DroppingProxy) -> None:
    await warm(service)
    await service.request_code(ON_FILE, session_id="c", caller_phone=STRANGER)
    proxy.drop_next_reply()
    first = await guess(service)
    assert proxy.dropped == 1
    if first[0] == "verified":
        pytest.skip("drew 000000 as the real code")
    assert first == ("wrong_code", 9)
    assert await guess(service) == ("wrong_code", 8)


async def test_a_request_resent_answers_sent_and_records_one_send(
    proxy: DroppingProxy, key_prefix: str, redis_client: Any
) -> None:
    """The re-sent request finds its own send: without the first answer it would say
    "cooldown" to a caller whose code is on its way (and count a second send)."""
    store = RedisOtpStore.from_url(proxy.url, key_prefix=key_prefix)
    policy = OtpPolicy(resend_cooldown_seconds=30)
    service = OtpService(
        store, RecordingSmsSender(), StaticDirectory({ON_FILE}), policy, pepper=PEPPER
    )
    try:
        await warm(service)
        proxy.drop_next_reply()
        first = await service.request_code(ON_FILE, session_id="c", caller_phone=STRANGER)
        assert proxy.dropped == 1
        assert first.status == "sent" and first.code_pending
        keys = store.keys_for(ON_FILE, "c", caller_reference(PEPPER, STRANGER))
        assert await redis_client.zcard(keys.caller_sends) == 1
    finally:
        await service.aclose()


async def test_a_counted_answer_resent_is_charged_once(
    proxy: DroppingProxy, key_prefix: str
) -> None:
    """The knowledge throttle's take (and a host's keyed counters): one answer, one count."""
    store = RedisOtpStore.from_url(proxy.url, key_prefix=key_prefix)
    throttle = IdentityThrottle(store, KnowledgePolicy(max_failures_per_record=2), pepper=PEPPER)
    try:
        assert (await throttle.attempt(record_id="warm", caller_phone=None)).allowed
        await throttle.succeeded(record_id="warm", caller_phone=None)  # both scripts cached
        proxy.drop_next_reply()
        assert (await throttle.attempt(record_id="P1", caller_phone=None)).allowed
        assert proxy.dropped == 1
        assert (await throttle.attempt(record_id="P1", caller_phone=None)).allowed  # 2 of 2
        assert not (await throttle.attempt(record_id="P1", caller_phone=None)).allowed
        # a give-back resent gives back one, not two
        proxy.drop_next_reply()
        await throttle.succeeded(record_id="P1", caller_phone=None)
        assert (await throttle.attempt(record_id="P1", caller_phone=None)).allowed
        assert not (await throttle.attempt(record_id="P1", caller_phone=None)).allowed
    finally:
        await store.aclose()
