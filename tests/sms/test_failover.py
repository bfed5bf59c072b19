"""FailoverSmsSender: real senders against stand-ins; breakers on a real SQLite store.

The breakers' own rules (threshold, cool-off, one probe across processes) are the store's,
tested on SQLite and Redis in test_shared_breaker.py; here, how the sender uses them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.constants import BODY, PHONE
from tests.support.sns_standin import AWS_KEY_ID, AWS_SECRET, SnsStandIn
from tests.support.standin_server import Reply
from tests.support.twilio_standin import TWILIO_SID, TWILIO_TOKEN, TwilioStandIn, twilio_error
from verification.sms.base import SmsDeliveryError, SmsReceipt
from verification.sms.failover import FailoverSmsSender
from verification.sms.sns import SnsSmsSender
from verification.sms.twilio import TwilioSmsSender
from verification.stores.sqlite import SqliteOtpStore

TWILIO_500 = Reply(500, code=20500, message="Internal Server Error")
COOLOFF = 0.4  # seconds; the store keeps real time, so the tests wait it out


@pytest.fixture
async def breaker_store(tmp_path: Path) -> AsyncIterator[SqliteOtpStore]:
    store = SqliteOtpStore(tmp_path / "otp.sqlite3")
    yield store
    await store.aclose()


async def cooloff_passes() -> None:
    await asyncio.sleep(COOLOFF + 0.1)


# --- FailoverSmsSender with real senders ---------------------------------------------------


@pytest.fixture
async def twilio(twilio_standin: TwilioStandIn) -> AsyncIterator[TwilioSmsSender]:
    sender = TwilioSmsSender(TWILIO_SID, TWILIO_TOKEN, "+15005550006", base_url=twilio_standin.url)
    yield sender
    await sender.aclose()


@pytest.fixture
def sns(sns_standin: SnsStandIn) -> SnsSmsSender:
    return SnsSmsSender(
        region_name="us-east-1",
        endpoint_url=sns_standin.url,
        aws_access_key_id=AWS_KEY_ID,
        aws_secret_access_key=AWS_SECRET,
    )


async def test_first_provider_is_used_when_healthy(
    twilio: TwilioSmsSender,
    sns: SnsSmsSender,
    twilio_standin: TwilioStandIn,
    sns_standin: SnsStandIn,
) -> None:
    receipt = await FailoverSmsSender([twilio, sns]).send(PHONE, BODY)
    assert receipt.provider == "twilio"
    assert len(twilio_standin.requests) == 1 and sns_standin.requests == []


async def test_retryable_error_moves_to_the_next_provider_in_order(
    twilio: TwilioSmsSender,
    sns: SnsSmsSender,
    twilio_standin: TwilioStandIn,
    sns_standin: SnsStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    twilio_standin.fail(TWILIO_500)
    receipt = await FailoverSmsSender([twilio, sns]).send(PHONE, BODY)

    assert receipt.provider == "sns"
    assert len(twilio_standin.requests) == 1 and len(sns_standin.requests) == 1
    [hop] = [r for r in caplog.records if r.name == "verification.sms.failover"]
    assert hop.levelname == "WARNING"
    assert (hop.sms_provider, hop.sms_error_code, hop.sms_retryable) == ("twilio", 20500, True)  # type: ignore[attr-defined]
    assert hop.sms_next_provider == "sns"  # type: ignore[attr-defined]


async def test_order_is_the_given_order(
    twilio: TwilioSmsSender,
    sns: SnsSmsSender,
    twilio_standin: TwilioStandIn,
    sns_standin: SnsStandIn,
) -> None:
    sns_standin.fail(Reply(500, "InternalError", "boom"))
    receipt = await FailoverSmsSender([sns, twilio]).send(PHONE, BODY)
    assert receipt.provider == "twilio" and len(sns_standin.requests) == 1


@pytest.mark.parametrize("code", [21211, 21610, 21614, 21408])
async def test_non_retryable_error_stops_at_once(
    twilio: TwilioSmsSender,
    sns: SnsSmsSender,
    twilio_standin: TwilioStandIn,
    sns_standin: SnsStandIn,
    breaker_store: SqliteOtpStore,
    code: int,
) -> None:
    twilio_standin.fail(twilio_error(code), times=1)
    failover = FailoverSmsSender([twilio, sns], breaker_store=breaker_store, breaker_threshold=1)
    with pytest.raises(SmsDeliveryError) as caught:
        await failover.send(PHONE, BODY)
    assert (caught.value.provider, caught.value.code, caught.value.retryable) == (
        "twilio",
        code,
        False,
    )
    assert sns_standin.requests == [], "a non-retryable error went on to the next provider"
    # the provider itself is fine: its breaker did not open
    assert (await failover.send(PHONE, BODY)).provider == "twilio"


async def test_all_failing_raises_a_retryable_failover_error_chaining_the_last(
    twilio: TwilioSmsSender,
    sns: SnsSmsSender,
    twilio_standin: TwilioStandIn,
    sns_standin: SnsStandIn,
) -> None:
    twilio_standin.fail(TWILIO_500)
    sns_standin.fail(Reply(400, "Throttling", "Rate exceeded"))
    with pytest.raises(SmsDeliveryError) as caught:
        await FailoverSmsSender([twilio, sns]).send(PHONE, BODY)
    err = caught.value
    assert (err.provider, err.retryable, err.code) == ("failover", True, "exhausted")
    assert isinstance(err.__cause__, SmsDeliveryError)
    assert (err.__cause__.provider, err.__cause__.code) == ("sns", "Throttling")
    assert PHONE not in str(err)


async def test_slow_provider_is_abandoned_after_the_attempt_timeout(
    twilio: TwilioSmsSender, sns: SnsSmsSender, twilio_standin: TwilioStandIn
) -> None:
    await sns.send(PHONE, BODY)  # warm boto3 (client and service model load on first use)
    twilio_standin.delay = 5.0
    started = time.monotonic()
    receipt = await FailoverSmsSender([twilio, sns], attempt_timeout=0.3, deadline=4).send(
        PHONE, BODY
    )
    assert receipt.provider == "sns"
    assert time.monotonic() - started < twilio_standin.delay  # never waited out the slow one


async def test_deadline_bounds_the_whole_send(
    twilio: TwilioSmsSender,
    sns: SnsSmsSender,
    twilio_standin: TwilioStandIn,
    sns_standin: SnsStandIn,
    breaker_store: SqliteOtpStore,
) -> None:
    twilio_standin.delay = 5.0
    sns_standin.delay = 5.0
    failover = FailoverSmsSender(
        [twilio, sns],
        attempt_timeout=0.3,
        deadline=0.5,
        breaker_store=breaker_store,
        breaker_threshold=1,
    )
    started = time.monotonic()
    with pytest.raises(SmsDeliveryError) as caught:
        await failover.send(PHONE, BODY)
    elapsed = time.monotonic() - started
    assert 0.45 <= elapsed < twilio_standin.delay  # the deadline, not the providers, ended it
    err = caught.value
    assert (err.provider, err.retryable, err.code) == ("failover", True, "deadline")
    assert isinstance(err.__cause__, SmsDeliveryError) and err.__cause__.provider == "twilio"
    # The provider cut short by the deadline is charged a failure too: both breakers opened.
    twilio_standin.delay = sns_standin.delay = 0
    with pytest.raises(SmsDeliveryError) as caught:
        await failover.send(PHONE, BODY)
    assert caught.value.code == "circuit_open"


async def test_breaker_skips_a_failing_provider_then_probes_it(
    twilio: TwilioSmsSender,
    sns: SnsSmsSender,
    twilio_standin: TwilioStandIn,
    sns_standin: SnsStandIn,
    breaker_store: SqliteOtpStore,
) -> None:
    failover = FailoverSmsSender(
        [twilio, sns], breaker_store=breaker_store, breaker_threshold=3, breaker_cooloff=COOLOFF
    )
    twilio_standin.fail(TWILIO_500)
    for _ in range(3):
        assert (await failover.send(PHONE, BODY)).provider == "sns"
    assert len(twilio_standin.requests) == 3

    # Open: Twilio is not even asked.
    assert (await failover.send(PHONE, BODY)).provider == "sns"
    assert len(twilio_standin.requests) == 3

    # Half-open after the cool-off: one probe, which fails and re-opens the breaker.
    await cooloff_passes()
    assert (await failover.send(PHONE, BODY)).provider == "sns"
    assert len(twilio_standin.requests) == 4
    assert (await failover.send(PHONE, BODY)).provider == "sns"
    assert len(twilio_standin.requests) == 4

    # Twilio recovers: the next probe succeeds and closes the breaker.
    twilio_standin.reset()
    await cooloff_passes()
    assert (await failover.send(PHONE, BODY)).provider == "twilio"
    assert (await failover.send(PHONE, BODY)).provider == "twilio"
    assert len(sns_standin.requests) == 6


async def test_without_a_store_every_provider_is_always_tried(
    twilio: TwilioSmsSender,
    sns: SnsSmsSender,
    twilio_standin: TwilioStandIn,
    sns_standin: SnsStandIn,
) -> None:
    failover = FailoverSmsSender([twilio, sns], breaker_threshold=1)
    twilio_standin.fail(TWILIO_500)
    for _ in range(3):
        assert (await failover.send(PHONE, BODY)).provider == "sns"
    assert len(twilio_standin.requests) == 3 and not failover.shares_breakers


async def test_half_open_lets_only_one_of_several_concurrent_sends_probe(
    twilio: TwilioSmsSender,
    sns: SnsSmsSender,
    twilio_standin: TwilioStandIn,
    breaker_store: SqliteOtpStore,
) -> None:
    failover = FailoverSmsSender(
        [twilio, sns], breaker_store=breaker_store, breaker_threshold=1, breaker_cooloff=COOLOFF
    )
    twilio_standin.fail(TWILIO_500, times=1)
    await failover.send(PHONE, BODY)
    await cooloff_passes()
    twilio_standin.delay = 0.2
    receipts = await asyncio.gather(*(failover.send(PHONE, BODY) for _ in range(5)))
    assert len(twilio_standin.requests) == 2, "more than one probe reached the half-open provider"
    assert sorted(r.provider for r in receipts) == ["sns"] * 4 + ["twilio"]


async def test_every_breaker_open_fails_fast(
    twilio: TwilioSmsSender, twilio_standin: TwilioStandIn, breaker_store: SqliteOtpStore
) -> None:
    failover = FailoverSmsSender([twilio], breaker_store=breaker_store, breaker_threshold=1)
    twilio_standin.fail(TWILIO_500)
    with pytest.raises(SmsDeliveryError):
        await failover.send(PHONE, BODY)
    with pytest.raises(SmsDeliveryError) as caught:
        await failover.send(PHONE, BODY)
    assert caught.value.code == "circuit_open" and caught.value.retryable
    assert len(twilio_standin.requests) == 1


class _BrokenSender:
    """Breaks the protocol by raising something other than SmsDeliveryError."""

    provider = "broken"

    async def send(self, to: str, body: str) -> SmsReceipt:
        raise KeyError(body)

    async def aclose(self) -> None:
        """Nothing to release."""


async def test_a_sender_breaking_the_protocol_is_treated_as_retryable(
    sns: SnsSmsSender,
) -> None:
    receipt = await FailoverSmsSender([_BrokenSender(), sns]).send(PHONE, BODY)
    assert receipt.provider == "sns"


async def test_cancelling_the_send_frees_a_half_open_probe(
    twilio: TwilioSmsSender, twilio_standin: TwilioStandIn, breaker_store: SqliteOtpStore
) -> None:
    failover = FailoverSmsSender(
        [twilio], breaker_store=breaker_store, breaker_threshold=1, breaker_cooloff=COOLOFF
    )
    twilio_standin.fail(TWILIO_500, times=1)
    with pytest.raises(SmsDeliveryError):
        await failover.send(PHONE, BODY)
    await cooloff_passes()
    twilio_standin.delay = 5
    task = asyncio.create_task(failover.send(PHONE, BODY))
    await asyncio.sleep(0.1)
    task.cancel()  # the caller hung up mid-probe
    with pytest.raises(asyncio.CancelledError):
        await task
    twilio_standin.delay = 0
    assert (await failover.send(PHONE, BODY)).provider == "twilio"
