"""Security rule 9: sending SMS never blocks the call's event loop.

A behaviour test of concurrency, not a benchmark (figures live in bench/sms_send.py): 20
sends to a provider that takes 1 s each must overlap (finish in far less than 20 s), and a
10 ms ticker on the same loop must keep ticking throughout.
"""

from __future__ import annotations

import asyncio
import gc
import time

from tests.support.constants import BODY, PHONE
from tests.support.sns_standin import AWS_KEY_ID, AWS_SECRET, SnsStandIn
from tests.support.twilio_standin import TWILIO_SID, TWILIO_TOKEN, TwilioStandIn
from verification.sms.base import SmsSender
from verification.sms.sns import SnsSmsSender
from verification.sms.twilio import TwilioSmsSender


async def concurrent_sends(sender: SmsSender, count: int) -> tuple[float, float]:
    """Run `count` sends at once; return (elapsed seconds, largest ticker gap seconds).

    The garbage collector is run first and kept out of the measured window: after hundreds of
    tests the heap is large, and a full collection can pause any event loop for a few hundred
    milliseconds, whatever the code under test does.
    """
    gc.collect()
    gc.disable()
    try:
        return await _measure(sender, count)
    finally:
        gc.enable()


async def _measure(sender: SmsSender, count: int) -> tuple[float, float]:
    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    started = time.monotonic()
    receipts = await asyncio.gather(*(sender.send(PHONE, BODY) for _ in range(count)))
    elapsed = time.monotonic() - started
    stop.set()
    await tick
    assert len({r.message_id for r in receipts}) == count
    return elapsed, max(gaps)


async def test_twenty_twilio_sends_overlap_and_the_loop_keeps_ticking(
    twilio_standin: TwilioStandIn,
) -> None:
    twilio_standin.delay = 1.0
    sender = TwilioSmsSender(
        TWILIO_SID, TWILIO_TOKEN, "+15005550006", base_url=twilio_standin.url, timeout=10
    )
    try:
        await sender.send(PHONE, BODY)  # warm the session, as a running worker would be
        elapsed, worst_gap = await concurrent_sends(sender, 20)
    finally:
        await sender.aclose()
    assert elapsed < 5, f"20 sends of 1 s each took {elapsed:.1f} s: they ran one by one"
    assert twilio_standin.max_in_flight >= 20
    assert worst_gap < 0.1, f"the event loop stalled for {worst_gap * 1000:.0f} ms"


async def test_sns_sends_run_off_the_event_loop(sns_standin: SnsStandIn) -> None:
    sns_standin.delay = 0.5
    sender = SnsSmsSender(
        region_name="us-east-1",
        endpoint_url=sns_standin.url,
        aws_access_key_id=AWS_KEY_ID,
        aws_secret_access_key=AWS_SECRET,
        timeout=10,
    )
    await sender.send(PHONE, BODY)  # build the boto3 client first (it reads model files)
    elapsed, worst_gap = await concurrent_sends(sender, 4)
    assert elapsed < 2, f"4 sends of 0.5 s each took {elapsed:.1f} s"
    assert worst_gap < 0.1, f"the event loop stalled for {worst_gap * 1000:.0f} ms"
