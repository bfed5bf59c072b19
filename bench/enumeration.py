"""Benchmark enumeration resistance (rule 6): can a caller tell a patient's number from a
stranger's by what `request_code` / `verify_code` answer, or by how long they take?

Measured through `OtpService` (the agent's `request_otp` / `verify_otp` tools return the
outcome's `message` unchanged for these statuses, so the sentences are the same), with codes on
a private redis-server and the real `ClinicDB` as the phone directory. Each try uses a fresh
session id and a fresh pair of numbers with the same last four digits, one on file
(+1 212 552 xxxx) and one not (+1 212 553 xxxx), so the masked numbers in the sentences match
and no cooldown or send limit is involved. A try is `request_code` then one wrong guess.

Three set-ups: (a) console SMS sender (instant), (b) the real Twilio SDK against the local
Twilio stand-in answering after --sms-delay seconds, (c) as (b) with
`OtpService(response_floor_seconds=--floor)`.

    uv run python bench/enumeration.py [--tries 200] [--sms-delay 0.15] [--floor 0.25]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clinic import ClinicDB
from tests.sms.standins import TWILIO_SID, TWILIO_TOKEN, TwilioStandIn
from tests.support.redis_server import RedisServer
from verification import (
    ConsoleSmsSender,
    OtpPolicy,
    OtpService,
    RedisOtpStore,
    SmsReceipt,
    SmsSender,
    TwilioSmsSender,
    normalize_phone,
)

PEPPER = b"bench-enum-pepper-0123456789abcdef"
POLICY = OtpPolicy(resend_cooldown_seconds=0, max_sends=10**6, max_failures=10**6)
ON_FILE_EXCHANGE, NOT_ON_FILE_EXCHANGE = 552, 553


def phone(exchange: int, index: int) -> str:
    return normalize_phone(f"212 {exchange} {index:04d}")


class Tap:
    """Passes messages on to `sender`, keeping the last text per number (to pick a guess
    that is surely wrong for the real code)."""

    def __init__(self, sender: SmsSender) -> None:
        self.sender = sender
        self.last: dict[str, str] = {}

    async def send(self, to: str, body: str) -> SmsReceipt:
        self.last[to] = body
        return await self.sender.send(to, body)

    async def aclose(self) -> None:
        close = getattr(self.sender, "aclose", None)
        if close is not None:
            await close()


@dataclass
class Timings:
    request: list[float] = field(default_factory=list)
    verify: list[float] = field(default_factory=list)


def guess_for(tap: Tap, e164: str) -> str:
    """A guess that is wrong for the real code (for a decoy it is wrong with p = 1 - 1e-6)."""
    body = tap.last.get(e164, "")
    return "000001" if "000000" in body else "000000"


async def one_try(
    svc: OtpService, tap: Tap, e164: str, session_id: str, into: Timings
) -> tuple[tuple[str, str], tuple[str, str, int | None]]:
    started = time.perf_counter()
    requested = await svc.request_code(e164, session_id=session_id)
    into.request.append(time.perf_counter() - started)
    guess = guess_for(tap, e164)
    started = time.perf_counter()
    verified = await svc.verify_code(e164, guess, session_id=session_id)
    into.verify.append(time.perf_counter() - started)
    return (requested.status, requested.message), (
        verified.status,
        verified.message,
        verified.attempts_left,
    )


async def same_answers(svc: OtpService, tap: Tap, label: str) -> None:
    """A whole decoy conversation sounds like a real one: send, three wrong guesses, one more."""
    transcripts = []
    for exchange in (ON_FILE_EXCHANGE, NOT_ON_FILE_EXCHANGE):
        e164 = phone(exchange, 9999)
        session = f"{label}-seq-{exchange}"
        said = [(await svc.request_code(e164, session_id=session)).message]
        for _ in range(4):
            outcome = await svc.verify_code(e164, guess_for(tap, e164), session_id=session)
            said.append(f"{outcome.status}|{outcome.attempts_left}|{outcome.message}")
        transcripts.append(said)
    assert transcripts[0] == transcripts[1], transcripts
    steps = " -> ".join(
        step.split("|")[0] + (f"({step.split('|')[1]} left)" if "wrong" in step else "")
        for step in transcripts[0][1:]
    )
    print(f"  on file and not: identical sentences for send -> {steps}")


def stats(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return statistics.median(values) * 1000, cuts[18] * 1000


async def run_setup(
    label: str,
    sender: SmsSender,
    clinic: ClinicDB,
    redis_url: str,
    tries: int,
    concurrency: int,
    floor: float,
) -> None:
    tap = Tap(sender)
    svc = OtpService(
        RedisOtpStore.from_url(redis_url, key_prefix=f"enum-{label}"),
        tap,
        clinic,
        POLICY,
        pepper=PEPPER,
        clinic_name="Bayview Clinic",
        response_floor_seconds=floor,
    )
    await same_answers(svc, tap, label)
    real, decoy = Timings(), Timings()
    limit = asyncio.Semaphore(concurrency)
    mismatches = 0

    async def pair(i: int) -> None:
        nonlocal mismatches
        async with limit:
            # alternate which goes first, so neither side always sees a warmer loop
            order = [(ON_FILE_EXCHANGE, real), (NOT_ON_FILE_EXCHANGE, decoy)][:: 1 - 2 * (i % 2)]
            answers = {}
            for exchange, into in order:
                answers[exchange] = await one_try(
                    svc, tap, phone(exchange, i), f"{label}-{i}-{exchange}", into
                )
            mismatches += answers[ON_FILE_EXCHANGE] != answers[NOT_ON_FILE_EXCHANGE]

    await asyncio.gather(*(pair(i) for i in range(tries)))
    await svc.aclose()
    print(f"  outcomes and sentences identical in {tries - mismatches}/{tries} tries")
    assert mismatches == 0
    for what, on, off in (
        ("request_code", real.request, decoy.request),
        ("verify_code ", real.verify, decoy.verify),
    ):
        (m_on, p_on), (m_off, p_off) = stats(on), stats(off)
        print(
            f"  {what} on file: median {m_on:7.1f} p95 {p_on:7.1f} ms | not on file: median "
            f"{m_off:7.1f} p95 {p_off:7.1f} ms | gap: median {m_on - m_off:+7.1f} "
            f"p95 {p_on - p_off:+7.1f} ms"
        )


async def main(tries: int, sms_delay: float, floor: float, concurrency: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="enum-bench-"))
    server = RedisServer(tmp / "redis")
    server.start()
    clinic = ClinicDB(tmp / "clinic.sqlite3")
    try:
        for i in [*range(tries), 9999]:
            await clinic.add_patient(
                f"Patient Number {i}", date(1980, 1, 1), phone(ON_FILE_EXCHANGE, i)
            )
        print(f"{tries} tries per number kind, {concurrency} pairs in flight, through OtpService")
        print("(a) console sender (instant)")
        await run_setup(
            "a", ConsoleSmsSender(io.StringIO()), clinic, server.url, tries, concurrency, 0.0
        )
        async with TwilioStandIn(delay=sms_delay) as twilio:
            print(f"(b) Twilio SDK -> stand-in answering after {sms_delay * 1000:.0f} ms")
            twilio_b = TwilioSmsSender(
                TWILIO_SID, TWILIO_TOKEN, "+14155550100", base_url=twilio.url
            )
            await run_setup("b", twilio_b, clinic, server.url, tries, concurrency, 0.0)
            print(f"(c) as (b), with response_floor_seconds={floor}")
            twilio_c = TwilioSmsSender(
                TWILIO_SID, TWILIO_TOKEN, "+14155550100", base_url=twilio.url
            )
            await run_setup("c", twilio_c, clinic, server.url, tries, concurrency, floor)
            texted = {r.form.get("To", "") for r in twilio.requests}
            on_file = {phone(ON_FILE_EXCHANGE, i) for i in [*range(tries), 9999]}
            print(
                f"  texts the stand-in received in (b)+(c): {len(twilio.requests)}, "
                f"all to numbers on file: {texted <= on_file}"
            )
            assert texted <= on_file
    finally:
        await clinic.aclose()
        server.stop()


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)  # the audit trail is not what is measured here
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=200)
    parser.add_argument("--sms-delay", type=float, default=0.15)
    parser.add_argument("--floor", type=float, default=0.25)
    parser.add_argument("--concurrency", type=int, default=10, help="pairs in flight at once")
    args = parser.parse_args()
    asyncio.run(main(args.tries, args.sms_delay, args.floor, args.concurrency))
