"""Benchmark: SMS sends through TwilioSmsSender against the local Twilio stand-in.

Prints, for 1, 20 and 100 concurrent sends to a provider that answers after 200 ms, the
wall time, sends per second, and the event-loop lag seen by a 10 ms ticker on the same loop
(max and p99 of how late each tick woke up). Low lag at 100 concurrent sends is what rule 9
("no blocking I/O on the event loop") looks like from a call's point of view.

    uv run python bench/sms_send.py [--delay 0.2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.twilio_standin import TWILIO_SID, TWILIO_TOKEN, TwilioStandIn
from verification.sms.twilio import TwilioSmsSender

TICK = 0.010
PHONE = "+14155550123"
BODY = "Your Example Clinic code is 000000. It expires in 5 minutes. Don't share it."


def p99(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[98]


async def run(sender: TwilioSmsSender, concurrency: int) -> tuple[float, list[float]]:
    """One burst of `concurrency` sends; returns (wall seconds, ticker lags in seconds)."""
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(TICK)
            lags.append(max(0.0, time.perf_counter() - before - TICK))

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(5 * TICK)
    started = time.perf_counter()
    await asyncio.gather(*(sender.send(PHONE, BODY) for _ in range(concurrency)))
    wall = time.perf_counter() - started
    stop.set()
    await tick
    return wall, lags


async def main(delay: float, rounds: int) -> None:
    async with TwilioStandIn(delay=delay) as standin:
        sender = TwilioSmsSender(
            TWILIO_SID, TWILIO_TOKEN, "+15005550006", base_url=standin.url, timeout=30
        )
        try:
            await sender.send(PHONE, BODY)  # warm-up: session, connection, SDK imports
            print(
                f"TwilioSmsSender -> local stand-in answering after {delay * 1000:.0f} ms; "
                f"{rounds} round(s) per level; lag = how late a {TICK * 1000:.0f} ms ticker woke"
            )
            print(
                f"{'concurrent':>10} {'wall s':>8} {'sends/s':>9} {'lag max ms':>11} "
                f"{'lag p99 ms':>11}"
            )
            for concurrency in (1, 20, 100):
                walls: list[float] = []
                lags: list[float] = []
                for _ in range(rounds):
                    wall, round_lags = await run(sender, concurrency)
                    walls.append(wall)
                    lags += round_lags
                wall = statistics.median(walls)
                print(
                    f"{concurrency:>10} {wall:>8.3f} {concurrency / wall:>9.1f} "
                    f"{max(lags) * 1000:>11.1f} {p99(lags) * 1000:>11.1f}"
                )
        finally:
            await sender.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.2, help="stand-in answer delay, s")
    parser.add_argument("--rounds", type=int, default=3, help="bursts per concurrency level")
    args = parser.parse_args()
    asyncio.run(main(args.delay, args.rounds))
