"""Many calls at once in one worker process, on Redis, with the Twilio SDK against its stand-in.

Every call is a real AgentSession with its own scripted model and CallState: identify ->
request a code -> one wrong code -> the right code -> try a neighbour's appointment ->
cancel or reschedule its own. Half the calls race for a few shared open slots. Afterwards:
each call ended where it should, no call acted on another's patient, no slot is booked
twice (checked in SQL), and the SMS stand-in got exactly one text per call, to that call's
phone. A quick 20-call variant runs by default; the 200-call one is `-m load`.
No timing asserts: the figures are in `bench/calls.py`.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent import Services
from clinic import ClinicDB
from tests.load.scenario import (
    CLINIC_NAME,
    NOT_YOURS,
    SLOT_TAKEN,
    WRONG_ONCE,
    Caller,
    CallResult,
    populate,
    run_calls,
)
from tests.sms.standins import TWILIO_SID, TWILIO_TOKEN, TwilioStandIn
from verification import OtpPolicy, OtpService, RedisOtpStore, TwilioSmsSender

PEPPER = b"load-test-pepper-0123456789abcdef"
SHARED_SLOTS = 3

pytestmark = pytest.mark.redis


@dataclass
class Line:
    """One worker's backends plus the SMS stand-in behind them."""

    services: Services
    clinic: ClinicDB
    clinic_path: Path
    twilio: TwilioStandIn


@pytest.fixture
async def line(redis_url: str, key_prefix: str, tmp_path: Path) -> AsyncIterator[Line]:
    clinic_path = tmp_path / "clinic.sqlite3"
    clinic = ClinicDB(clinic_path)
    twilio = TwilioStandIn()
    await twilio.start()
    sender = TwilioSmsSender(TWILIO_SID, TWILIO_TOKEN, "+14155550100", base_url=twilio.url)
    otp = OtpService(
        RedisOtpStore.from_url(redis_url, key_prefix=key_prefix),
        sender,
        clinic,
        OtpPolicy(),
        pepper=PEPPER,
        clinic_name=CLINIC_NAME,
    )
    services = Services(clinic=clinic, otp=otp)
    try:
        yield Line(services, clinic, clinic_path, twilio)
    finally:
        await services.aclose()
        await twilio.stop()


def booked_slots_with_more_than_one(clinic_path: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(clinic_path) as conn:
        rows = conn.execute(
            "SELECT slot_id, COUNT(*) FROM appointments WHERE status = 'booked' "
            "GROUP BY slot_id HAVING COUNT(*) > 1"
        ).fetchall()
    return [(str(slot), int(count)) for slot, count in rows]


def events_by_appointment(clinic_path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with sqlite3.connect(clinic_path) as conn:
        for appointment_id, action in conn.execute(
            "SELECT appointment_id, action FROM appointment_events ORDER BY id"
        ):
            out.setdefault(str(appointment_id), []).append(str(action))
    return out


def check_call(result: CallResult) -> None:
    """The scripted conversation went the way a real caller's would, step by step."""
    caller = result.caller
    (identified,) = result.outputs("verify_identity")
    assert identified == (
        f"Verified {caller.full_name} by name and date of birth: may hear and book. "
        "Cancel or reschedule needs a texted code.",
        False,
    )
    ((sent, sent_error),) = result.outputs("request_otp")
    assert not sent_error and sent.startswith("I've texted a 6-digit code")
    assert sent.count(caller.phone[-4:]) == 1
    wrong, right = result.outputs("verify_otp")
    assert wrong == (WRONG_ONCE, False)
    assert not right[1] and "You're verified" in right[0]
    assert right[0].endswith(f"Verified for {caller.full_name}.")
    # After verifying: only this call's own patient, at Level 2, and nobody else.
    assert result.grants == {caller.patient_id: 2}

    cancels = result.outputs("cancel_appointment")
    assert cancels[0] == (NOT_YOURS, True)  # the neighbour's appointment
    if caller.action == "cancel":
        assert len(cancels) == 2
        assert not cancels[1][1] and cancels[1][0].startswith("Cancelled")
        assert result.outputs("reschedule_appointment") == []
    else:
        assert len(cancels) == 1
        moves = result.outputs("reschedule_appointment")
        assert not moves[-1][1] and moves[-1][0].startswith("Moved to")
        if result.won_shared_slot:
            assert len(moves) == 1
        else:
            assert moves[:-1] == [(SLOT_TAKEN, True)]


async def final_slot(clinic: ClinicDB, caller: Caller, result: CallResult) -> str | None:
    appointment = await clinic.get_appointment(caller.appointment_id)
    assert appointment.patient_id == caller.patient_id
    if caller.action == "cancel":
        assert (appointment.status, appointment.slot_id) == ("cancelled", caller.slot_id)
        return None
    assert appointment.status == "booked"
    expected = caller.shared_slot_id if result.won_shared_slot else caller.spare_slot_id
    assert appointment.slot_id == expected
    return appointment.slot_id


@pytest.mark.parametrize(
    "calls",
    [pytest.param(20, id="20-calls"), pytest.param(200, id="200-calls", marks=pytest.mark.load)],
)
async def test_concurrent_calls_stay_apart(line: Line, calls: int) -> None:
    callers = await populate(line.clinic, calls, shared_slots=SHARED_SLOTS)
    rescheduling = [c for c in callers if c.action == "reschedule"]
    assert len(rescheduling) > SHARED_SLOTS  # so the shared slots really are raced for

    results = await run_calls(line.services, callers, line.twilio)

    for result in results:
        check_call(result)

    # Each call ended in its own right state; the neighbour's attempt changed nothing
    # (every appointment's history is its booking plus exactly its own call's one action).
    finals = [await final_slot(line.clinic, r.caller, r) for r in results]
    history = events_by_appointment(line.clinic_path)
    for caller in callers:
        own = "cancelled" if caller.action == "cancel" else "rescheduled"
        assert history[caller.appointment_id] == ["booked", own]

    # The race for shared slots: each shared slot won exactly once, every loser was told.
    winners = Counter(r.caller.shared_slot_id for r in results if r.won_shared_slot)
    assert winners == Counter({s: 1 for s in {c.shared_slot_id for c in rescheduling}})
    assert (
        sum(1 for r in results if r.outputs("reschedule_appointment")[:1] == [(SLOT_TAKEN, True)])
        == len(rescheduling) - SHARED_SLOTS
    )
    moved_to = [slot for slot in finals if slot is not None]
    assert len(moved_to) == len(set(moved_to)) == len(rescheduling)
    assert booked_slots_with_more_than_one(line.clinic_path) == []

    # Exactly one text per call, to that call's phone, and nothing else.
    texted = Counter(r.form.get("To") for r in line.twilio.requests)
    assert texted == Counter({c.phone: 1 for c in callers})
    assert all(CLINIC_NAME in r.form.get("Body", "") for r in line.twilio.requests)
