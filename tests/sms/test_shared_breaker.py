"""Circuit breakers shared by every call process (issue 9 item 6), on SQLite and Redis.

LiveKit runs each call in a process of its own that exits with the call (`JobExecutorType
.PROCESS`, one job per process), so a breaker kept in memory starts closed on every call and
every caller pays a dead provider's timeout again. Here each "call" is a new sender on a new
store object over the same SQLite file or Redis server, as a new process would have.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.constants import BODY, PHONE
from tests.support.sns_standin import AWS_KEY_ID, AWS_SECRET, SnsStandIn
from tests.support.standin_server import Reply
from tests.support.twilio_standin import TWILIO_SID, TWILIO_TOKEN, TwilioStandIn
from verification import OtpStore, RedisOtpStore, SqliteOtpStore
from verification.sms.failover import FailoverSmsSender
from verification.sms.sns import SnsSmsSender
from verification.sms.twilio import TwilioSmsSender

OpenStore = Callable[[], OtpStore]


@pytest.fixture(params=["sqlite", "redis"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path, key_prefix: str) -> OpenStore:
    if request.param == "sqlite":
        return lambda: SqliteOtpStore(tmp_path / "otp.sqlite3")
    url = request.getfixturevalue("redis_url")
    return lambda: RedisOtpStore.from_url(url, key_prefix=key_prefix)


def call_sender(store: OtpStore, twilio_url: str, sns_url: str) -> FailoverSmsSender:
    """What one call process builds: Twilio first, SNS second, breakers in `store`."""
    twilio = TwilioSmsSender(TWILIO_SID, TWILIO_TOKEN, "+15005550006", base_url=twilio_url)
    sns = SnsSmsSender(
        region_name="us-east-1",
        endpoint_url=sns_url,
        aws_access_key_id=AWS_KEY_ID,
        aws_secret_access_key=AWS_SECRET,
    )
    return FailoverSmsSender(
        [twilio, sns], breaker_threshold=2, breaker_cooloff=60, breaker_store=store
    )


async def one_call(open_store: OpenStore, twilio: TwilioStandIn, sns: SnsStandIn) -> str:
    store = open_store()
    sender = call_sender(store, twilio.url, sns.url)
    try:
        return (await sender.send(PHONE, BODY)).provider
    finally:
        await sender.aclose()
        await store.aclose()


async def test_a_provider_that_failed_in_earlier_calls_is_skipped_in_the_next(
    open_store: OpenStore, twilio_standin: TwilioStandIn, sns_standin: SnsStandIn
) -> None:
    twilio_standin.fail(Reply(500, code=20500, message="Internal Server Error"))
    providers = [await one_call(open_store, twilio_standin, sns_standin) for _ in range(4)]

    assert providers == ["sns"] * 4
    # two calls paid Twilio's failure (the threshold); the next calls skipped it
    assert len(twilio_standin.requests) == 2
    assert len(sns_standin.requests) == 4


async def test_after_the_cooloff_one_send_of_all_processes_probes(
    open_store: OpenStore, twilio_standin: TwilioStandIn, sns_standin: SnsStandIn
) -> None:
    store = open_store()
    try:
        for _ in range(2):
            await store.breaker_record("twilio", failed=True, threshold=2, cooloff_seconds=0.2)
        assert not await store.breaker_allow("twilio", 5.0)
        await asyncio.sleep(0.3)
        # five processes ask at once: exactly one gets the probe
        others = [open_store() for _ in range(5)]
        grants = await asyncio.gather(*(s.breaker_allow("twilio", 5.0) for s in others))
        for other in others:
            await other.aclose()
        assert sorted(grants) == [False] * 4 + [True]
        # the probe succeeds: closed for everyone
        await store.breaker_record("twilio", failed=False, threshold=2, cooloff_seconds=0.2)
        assert await store.breaker_allow("twilio", 5.0)
    finally:
        await store.aclose()


async def test_a_breaker_store_outage_never_stops_a_send(
    twilio_standin: TwilioStandIn, sns_standin: SnsStandIn, tmp_path: Path
) -> None:
    """A breaker only saves time: with its store down, the send goes ahead."""
    from tests.support.ports import free_port

    store = RedisOtpStore.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.2)
    sender = call_sender(store, twilio_standin.url, sns_standin.url)
    try:
        assert (await sender.send(PHONE, BODY)).provider == "twilio"
    finally:
        await sender.aclose()
        await store.aclose()
