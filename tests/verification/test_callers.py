"""Calls and callers do not hurt each other (issue 9 items 3 and 4), on SQLite and Redis.

A code requested in call B never voids call A's live code for the same phone; a stranger's
requests and wrong guesses use up the stranger's allowance, not the patient's; and the
per-phone ceilings bound what everyone together can do to one phone.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.support.constants import ON_FILE, PEPPER
from tests.support.services import ServiceFactory
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpPolicy, OtpService, RedisOtpStore, SqliteOtpStore

PATIENT = "+14155550123"  # the patient calls from the phone on file
ATTACKER = "+12125550100"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def code_for(sender: RecordingSmsSender, session: str, since: int) -> str:
    """The code of the message sent after index `since` (one send per step in these tests)."""
    assert len(sender.sent) == since + 1, f"expected one new message for {session}"
    return sender.last_code()


# -- item 3: one call's request never voids another call's code --------------------------


async def test_another_calls_request_leaves_this_calls_code_valid(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    service = make_service()
    await service.request_code(ON_FILE, session_id="call-A", caller_phone=PATIENT)
    await service.drain()
    code_a = sender.last_code()

    other = await service.request_code(ON_FILE, session_id="call-B", caller_phone=ATTACKER)
    await service.drain()
    code_b = sender.last_code()

    assert other.status == "sent"
    outcome_a = await service.verify_code(
        ON_FILE, code_a, session_id="call-A", caller_phone=PATIENT
    )
    assert outcome_a.verified, outcome_a
    outcome_b = await service.verify_code(
        ON_FILE, code_b, session_id="call-B", caller_phone=ATTACKER
    )
    assert outcome_b.verified, outcome_b


async def test_guesses_in_another_call_do_not_touch_this_calls_code(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    service = make_service(OtpPolicy(max_attempts=3))
    await service.request_code(ON_FILE, session_id="call-A", caller_phone=PATIENT)
    await service.drain()
    code_a = sender.last_code()
    await service.request_code(ON_FILE, session_id="call-B", caller_phone=ATTACKER)
    await service.drain()
    code_b = sender.last_code()

    burned = [
        await service.verify_code(
            ON_FILE, wrong(code_b), session_id="call-B", caller_phone=ATTACKER
        )
        for _ in range(3)
    ]
    assert [o.attempts_left for o in burned] == [2, 1, 0] and burned[-1].code_spent
    outcome = await service.verify_code(ON_FILE, code_a, session_id="call-A", caller_phone=PATIENT)
    assert outcome.verified and outcome.code_spent


async def test_total_guesses_against_a_phone_stay_bounded_across_its_live_codes(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    """Many calls, each with its own live code: their wrong guesses add up to one ceiling."""
    policy = OtpPolicy(max_attempts=3, max_failures=100, max_phone_failures=5, max_phone_sends=10)
    service = make_service(policy)
    sessions = [f"call-{i}" for i in range(4)]
    for i, session in enumerate(sessions):
        await service.request_code(ON_FILE, session_id=session, caller_phone=f"+1212555010{i}")
    await service.drain()

    statuses = []
    for i, session in enumerate(sessions):
        for _ in range(2):
            outcome = await service.verify_code(
                ON_FILE, "000000", session_id=session, caller_phone=f"+1212555010{i}"
            )
            statuses.append(outcome.status)
    if "verified" in statuses:
        pytest.skip("drew 000000 as a real code")
    assert statuses == ["wrong_code"] * 4 + ["locked"] * 4  # the 5th wrong guess locks
    # locked for everyone now, the patient too (the ceiling is what bounds an attacker)
    patient = await service.request_code(ON_FILE, session_id="patient", caller_phone=PATIENT)
    assert patient.status == "locked" and not patient.code_pending


async def test_cooldown_and_send_allowance_are_the_callers_own(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    """A stranger who asks for codes for the patient's phone does not hold the patient off."""
    service = make_service(OtpPolicy(max_sends=2, max_phone_sends=5, resend_cooldown_seconds=30))
    first = await service.request_code(ON_FILE, session_id="x1", caller_phone=ATTACKER)
    cooling = await service.request_code(ON_FILE, session_id="x1", caller_phone=ATTACKER)
    redial = await service.request_code(ON_FILE, session_id="x2", caller_phone=ATTACKER)

    assert first.status == "sent"
    assert cooling.status == "cooldown" and cooling.code_pending  # x1's own code is live
    assert redial.status == "cooldown" and not redial.code_pending  # x2 has no code
    patient = await service.request_code(ON_FILE, session_id="p", caller_phone=PATIENT)
    assert patient.status == "sent" and patient.code_pending


async def test_the_phone_ceiling_caps_sends_from_every_caller(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    service = make_service(OtpPolicy(max_sends=3, max_phone_sends=3, resend_cooldown_seconds=0))
    statuses = [
        (
            await service.request_code(ON_FILE, session_id=f"s{i}", caller_phone=f"+1212555020{i}")
        ).status
        for i in range(5)
    ]
    await service.drain()
    assert statuses == ["sent", "sent", "sent", "rate_limited", "rate_limited"]
    assert len(sender.sent) == 3


# -- item 4: lockout is not a weapon ------------------------------------------------------


async def test_a_strangers_wrong_guesses_lock_the_stranger_not_the_patient(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    policy = OtpPolicy(max_attempts=3, max_failures=6, max_sends=10, resend_cooldown_seconds=0)
    service = make_service(policy)
    locked = None
    for _code in range(2):  # two codes, three wrong guesses each: six failures
        await service.request_code(ON_FILE, session_id="attack", caller_phone=ATTACKER)
        for _ in range(3):
            locked = await service.verify_code(
                ON_FILE, "000000", session_id="attack", caller_phone=ATTACKER
            )
            if locked.status == "verified":
                pytest.skip("drew 000000 as the real code")
    assert locked is not None and locked.status == "locked" and locked.code_spent
    again = await service.request_code(ON_FILE, session_id="attack", caller_phone=ATTACKER)
    assert again.status == "locked"

    # the patient, calling from their own number, is not locked out
    await service.drain()
    before = len(sender.sent)
    asked = await service.request_code(ON_FILE, session_id="patient", caller_phone=PATIENT)
    await service.drain()
    assert asked.status == "sent"
    code = code_for(sender, "patient", before)
    assert (
        await service.verify_code(ON_FILE, code, session_id="patient", caller_phone=PATIENT)
    ).verified


async def test_withheld_callers_share_one_allowance(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    """Withholding the number must not buy a fresh allowance on every call."""
    service = make_service(OtpPolicy(max_attempts=3, max_failures=3, resend_cooldown_seconds=0))
    await service.request_code(ON_FILE, session_id="anon-1")
    for _ in range(3):
        last = await service.verify_code(ON_FILE, "000000", session_id="anon-1")
    if last.status == "verified":
        pytest.skip("drew 000000 as the real code")
    assert last.status == "locked"
    assert (await service.request_code(ON_FILE, session_id="anon-2")).status == "locked"
    assert (
        await service.request_code(ON_FILE, session_id="p", caller_phone=PATIENT)
    ).status == "sent"


async def test_a_patients_success_does_not_reopen_the_phone_ceiling(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    """If a success reset the ceiling, an attacker could guess again after every real login."""
    policy = OtpPolicy(
        max_attempts=3, max_failures=10, max_phone_failures=4, resend_cooldown_seconds=0
    )
    service = make_service(policy)
    await service.request_code(ON_FILE, session_id="attack", caller_phone=ATTACKER)
    for _ in range(3):
        await service.verify_code(ON_FILE, "000000", session_id="attack", caller_phone=ATTACKER)
    await service.drain()
    before = len(sender.sent)
    await service.request_code(ON_FILE, session_id="patient", caller_phone=PATIENT)
    await service.drain()
    code = code_for(sender, "patient", before)
    assert (
        await service.verify_code(ON_FILE, code, session_id="patient", caller_phone=PATIENT)
    ).verified

    await service.request_code(ON_FILE, session_id="attack-2", caller_phone="+12125550101")
    last = await service.verify_code(
        ON_FILE, "000000", session_id="attack-2", caller_phone="+12125550101"
    )
    assert last.status == "locked"  # 3 + 1 = 4 wrong guesses on the phone today


def test_default_ceiling_keeps_the_odds_at_nists_bound() -> None:
    policy = OtpPolicy()
    assert policy.best_odds_per_phone <= 1e-4
    assert policy.max_failures < policy.max_phone_failures  # one caller locks first


# -- redial: new processes see the same counters -------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_a_redial_resets_no_lockout(
    backend: str, tmp_path: Path, key_prefix: str, request: pytest.FixtureRequest
) -> None:
    def fresh() -> OtpService:
        store = (
            SqliteOtpStore(tmp_path / "otp.sqlite3")
            if backend == "sqlite"
            else RedisOtpStore.from_url(request.getfixturevalue("redis_url"), key_prefix=key_prefix)
        )
        policy = OtpPolicy(max_attempts=3, max_failures=3)
        return OtpService(
            store, RecordingSmsSender(), StaticDirectory({ON_FILE}), policy, pepper=PEPPER
        )

    first = fresh()
    await first.request_code(ON_FILE, session_id="call-1", caller_phone=ATTACKER)
    results = await asyncio.gather(
        *(
            first.verify_code(ON_FILE, "000000", session_id="call-1", caller_phone=ATTACKER)
            for _ in range(3)
        )
    )
    await first.aclose()
    if any(r.verified for r in results):
        pytest.skip("drew 000000 as the real code")

    second = fresh()  # a new call process: new objects, same file or server
    try:
        again = await second.request_code(ON_FILE, session_id="call-2", caller_phone=ATTACKER)
        assert again.status == "locked"
    finally:
        await second.aclose()
