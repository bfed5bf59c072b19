"""FailoverSmsSender and CircuitBreaker: real senders against stand-ins, an injected clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from tests.sms.standins import (
    AWS_KEY_ID,
    AWS_SECRET,
    TWILIO_SID,
    TWILIO_TOKEN,
    Reply,
    SnsStandIn,
    TwilioStandIn,
    twilio_error,
)
from tests.support.constants import BODY, PHONE
from verification.sms.base import SmsDeliveryError, SmsReceipt
from verification.sms.failover import CircuitBreaker, FailoverSmsSender
from verification.sms.sns import SnsSmsSender
from verification.sms.twilio import TwilioSmsSender

TWILIO_500 = Reply(500, code=20500, message="Internal Server Error")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- CircuitBreaker ----------------------------------------------------------------------


def test_breaker_opens_after_threshold_consecutive_failures() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=3, cooloff=60, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert str(breaker.state) == "open" and not breaker.allow()


def test_a_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(threshold=3, cooloff=60, clock=FakeClock())
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed"


def test_after_cooloff_exactly_one_probe_is_allowed() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=1, cooloff=60, clock=clock)
    breaker.record_failure()
    clock.now += 59.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.state == "half_open"
    assert breaker.allow()
    assert not breaker.allow(), "a second send got through while the probe is in flight"


def test_failed_probe_reopens_for_a_full_cooloff() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=2, cooloff=60, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.now += 60
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open"
    clock.now += 30
    assert not breaker.allow()
    clock.now += 30
    assert breaker.allow()


def test_successful_probe_closes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=1, cooloff=10, clock=clock)
    breaker.record_failure()
    clock.now += 10
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow() and breaker.allow()


def test_released_probe_lets_the_next_send_probe() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=1, cooloff=10, clock=clock)
    breaker.record_failure()
    clock.now += 10
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()


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
    code: int,
) -> None:
    twilio_standin.fail(twilio_error(code))
    failover = FailoverSmsSender([twilio, sns])
    with pytest.raises(SmsDeliveryError) as caught:
        await failover.send(PHONE, BODY)
    assert (caught.value.provider, caught.value.code, caught.value.retryable) == (
        "twilio",
        code,
        False,
    )
    assert sns_standin.requests == [], "a non-retryable error went on to the next provider"
    assert failover.breakers[0].consecutive_failures == 0  # the provider itself is fine


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
) -> None:
    twilio_standin.delay = 5.0
    sns_standin.delay = 5.0
    failover = FailoverSmsSender([twilio, sns], attempt_timeout=0.3, deadline=0.5)
    started = time.monotonic()
    with pytest.raises(SmsDeliveryError) as caught:
        await failover.send(PHONE, BODY)
    elapsed = time.monotonic() - started
    assert 0.45 <= elapsed < twilio_standin.delay  # the deadline, not the providers, ended it
    err = caught.value
    assert (err.provider, err.retryable, err.code) == ("failover", True, "deadline")
    assert isinstance(err.__cause__, SmsDeliveryError) and err.__cause__.provider == "twilio"
    # The provider cut short by the deadline is charged a failure too.
    assert [b.consecutive_failures for b in failover.breakers] == [1, 1]


async def test_breaker_skips_a_failing_provider_then_probes_it(
    twilio: TwilioSmsSender,
    sns: SnsSmsSender,
    twilio_standin: TwilioStandIn,
    sns_standin: SnsStandIn,
) -> None:
    clock = FakeClock()
    failover = FailoverSmsSender(
        [twilio, sns], breaker_threshold=3, breaker_cooloff=60, clock=clock
    )
    twilio_standin.fail(TWILIO_500)
    for _ in range(3):
        assert (await failover.send(PHONE, BODY)).provider == "sns"
    assert len(twilio_standin.requests) == 3
    assert failover.breakers[0].state == "open"

    # Open: Twilio is not even asked.
    assert (await failover.send(PHONE, BODY)).provider == "sns"
    assert len(twilio_standin.requests) == 3

    # Half-open after the cool-off: one probe, which fails and re-opens the breaker.
    clock.now += 60
    assert (await failover.send(PHONE, BODY)).provider == "sns"
    assert len(twilio_standin.requests) == 4
    assert (await failover.send(PHONE, BODY)).provider == "sns"
    assert len(twilio_standin.requests) == 4

    # Twilio recovers: the next probe succeeds and closes the breaker.
    twilio_standin.reset()
    clock.now += 60
    assert (await failover.send(PHONE, BODY)).provider == "twilio"
    assert str(failover.breakers[0].state) == "closed"
    assert (await failover.send(PHONE, BODY)).provider == "twilio"
    assert len(sns_standin.requests) == 6


async def test_half_open_lets_only_one_of_several_concurrent_sends_probe(
    twilio: TwilioSmsSender, sns: SnsSmsSender, twilio_standin: TwilioStandIn
) -> None:
    clock = FakeClock()
    failover = FailoverSmsSender(
        [twilio, sns], breaker_threshold=1, breaker_cooloff=60, clock=clock
    )
    twilio_standin.fail(TWILIO_500, times=1)
    await failover.send(PHONE, BODY)
    clock.now += 60
    twilio_standin.delay = 0.2
    receipts = await asyncio.gather(*(failover.send(PHONE, BODY) for _ in range(5)))
    assert len(twilio_standin.requests) == 2, "more than one probe reached the half-open provider"
    assert sorted(r.provider for r in receipts) == ["sns"] * 4 + ["twilio"]


async def test_every_breaker_open_fails_fast(
    twilio: TwilioSmsSender, twilio_standin: TwilioStandIn
) -> None:
    failover = FailoverSmsSender([twilio], breaker_threshold=1, clock=FakeClock())
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
    twilio: TwilioSmsSender, twilio_standin: TwilioStandIn
) -> None:
    clock = FakeClock()
    failover = FailoverSmsSender([twilio], breaker_threshold=1, clock=clock)
    twilio_standin.fail(TWILIO_500, times=1)
    with pytest.raises(SmsDeliveryError):
        await failover.send(PHONE, BODY)
    clock.now += 60
    twilio_standin.delay = 5
    task = asyncio.create_task(failover.send(PHONE, BODY))
    await asyncio.sleep(0.1)
    task.cancel()  # the caller hung up mid-probe
    with pytest.raises(asyncio.CancelledError):
        await task
    twilio_standin.delay = 0
    assert (await failover.send(PHONE, BODY)).provider == "twilio"
