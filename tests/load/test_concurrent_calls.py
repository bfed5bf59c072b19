"""Many calls at once in one worker process, on Redis, with the Twilio SDK against its stand-in.

Every call is a real AgentSession with its own scripted model and CallState: identify ->
request a code -> one wrong code -> the right code -> try a neighbour's appointment ->
cancel or reschedule its own. Half the calls race for a few shared open slots. Afterwards:
each call ended where it should, no call acted on another's patient, no slot is booked
twice (checked in SQL), and the SMS stand-in got exactly one text per call, to that call's
phone (`tests/load/checks.py`). A quick 20-call variant runs by default; the 200-call one is
`-m load`; several worker processes on PostgreSQL are `test_worker_processes.py`.
No timing asserts: the figures are in `bench/calls.py`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent import Services
from clinic import ClinicDB
from tests.support.load_checks import check_run
from tests.support.load_scenario import CLINIC_NAME, load_services, populate, run_calls
from tests.support.twilio_standin import TwilioStandIn

SHARED_SLOTS = 3

pytestmark = pytest.mark.redis


@dataclass
class Line:
    """One worker's backends plus the SMS stand-in behind them."""

    services: Services
    clinic: ClinicDB
    clinic_path: Path
    twilio: TwilioStandIn

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.clinic_path) as conn:
            return conn.execute(query).fetchall()


@pytest.fixture
async def line(redis_url: str, key_prefix: str, tmp_path: Path) -> AsyncIterator[Line]:
    clinic_path = tmp_path / "clinic.sqlite3"
    clinic = ClinicDB(clinic_path)
    twilio = TwilioStandIn()
    await twilio.start()
    services = load_services(clinic, redis_url, key_prefix, twilio)
    try:
        yield Line(services, clinic, clinic_path, twilio)
    finally:
        await services.aclose()
        await twilio.stop()


@pytest.mark.parametrize(
    "calls",
    [pytest.param(20, id="20-calls"), pytest.param(200, id="200-calls", marks=pytest.mark.load)],
)
async def test_concurrent_calls_stay_apart(line: Line, calls: int) -> None:
    callers = await populate(line.clinic, calls, shared_slots=SHARED_SLOTS)
    results = await run_calls(line.services, callers, line.twilio)
    texted = [str(r.form.get("To")) for r in line.twilio.requests]
    await check_run(line.clinic, line.rows, callers, results, texted, shared_slots=SHARED_SLOTS)
    assert all(CLINIC_NAME in r.form.get("Body", "") for r in line.twilio.requests)
