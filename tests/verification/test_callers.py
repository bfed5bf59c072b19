"""Calls and callers do not hurt each other (issue 9 items 3 and 4), on SQLite and Redis.

A code requested in call B never voids call A's live code for the same phone; a stranger's
requests and wrong guesses use up the stranger's allowance, not the patient's; and the
per-phone ceilings bound what everyone together can do to one phone.
"""

from __future__ import annotations

import asyncio
import logging
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


async def asks_and_verifies(
    service: OtpService, sender: RecordingSmsSender, session: str, caller: str | None
) -> bool:
    """A caller asks for a code in call `session`, gets exactly one text, and reads it back:
    True when it verifies (any earlier sends are settled first, so the text is this one)."""
    await service.drain()
    before = len(sender.sent)
    asked = await service.request_code(ON_FILE, session_id=session, caller_phone=caller)
    await service.drain()
    assert asked.status == "sent", asked
    assert len(sender.sent) == before + 1, f"expected one new message for {session}"
    code = sender.last_code()
    checked = await service.verify_code(ON_FILE, code, session_id=session, caller_phone=caller)
    return checked.verified


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
    # locked for every other number and every withheld caller ID now (the ceiling is what
    # bounds an attacker); a call from the phone itself still has the owner's reserve
    for caller in ("+16505550100", None):
        other = await service.request_code(ON_FILE, session_id="other", caller_phone=caller)
        assert other.status == "locked" and not other.code_pending
    patient = await service.request_code(ON_FILE, session_id="patient", caller_phone=PATIENT)
    assert patient.status == "sent"


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
    assert await asks_and_verifies(service, sender, "patient", PATIENT)


async def test_a_withheld_caller_id_counts_only_toward_the_phone_ceiling(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    """Issue 15.1: withheld caller IDs once shared one allowance, so one withheld attacker
    locked out every caller who withholds their number. They now count only toward the
    phone's ceiling, like any caller, and lock no one until it fills."""
    service = make_service(
        OtpPolicy(max_attempts=3, max_failures=3, max_phone_failures=8, resend_cooldown_seconds=0)
    )
    statuses = []
    for call in range(2):  # two withheld calls, three wrong guesses each: past max_failures
        await service.request_code(ON_FILE, session_id=f"anon-{call}")
        for _ in range(3):
            statuses.append(
                (await service.verify_code(ON_FILE, "000000", session_id=f"anon-{call}")).status
            )
    if "verified" in statuses:
        pytest.skip("drew 000000 as the real code")
    assert statuses == ["wrong_code"] * 6
    # another withheld caller (perhaps the patient) still gets a code and verifies
    assert await asks_and_verifies(service, sender, "anon-patient", None)


async def test_a_withheld_callers_cooldown_is_its_own_calls(make_service: ServiceFactory) -> None:
    """A withheld attacker asking for codes again and again holds no other withheld call
    off: the cooldown belongs to the call (the phone's send ceiling bounds them all)."""
    service = make_service(OtpPolicy(resend_cooldown_seconds=30))
    assert (await service.request_code(ON_FILE, session_id="attacker")).status == "sent"
    again = await service.request_code(ON_FILE, session_id="attacker")
    assert again.status == "cooldown" and again.code_pending
    assert (await service.request_code(ON_FILE, session_id="patient")).status == "sent"


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
    assert await asks_and_verifies(service, sender, "patient", PATIENT)

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


# -- issue 15.1: caller ID is a hint, never a key an attacker can turn ---------------------


async def test_guesses_under_the_phones_own_caller_id_do_not_lock_out_the_patient(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    """With the caller ID set to Jane's own number, 10 wrong guesses (4 codes, about an
    hour) used to lock Jane out for 24 h, even calling from her own phone. They now count
    only toward the phone's ceiling (97 a day), which they are far from."""
    service = make_service(OtpPolicy(resend_cooldown_seconds=0))
    statuses = []
    for call in range(4):
        await service.request_code(ON_FILE, session_id=f"spoof-{call}", caller_phone=PATIENT)
        for _ in range(3 if call < 3 else 1):
            guess = await service.verify_code(
                ON_FILE, "000000", session_id=f"spoof-{call}", caller_phone=PATIENT
            )
            statuses.append(guess.status)
    if "verified" in statuses:
        pytest.skip("drew 000000 as a real code")
    assert statuses == ["wrong_code"] * 10

    assert await asks_and_verifies(service, sender, "jane", PATIENT)


async def test_past_the_ceilings_the_phone_itself_keeps_the_owners_reserve(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    """Strangers rotating caller IDs fill both ceilings; every other number and every
    withheld call is refused, while a call from the phone itself still gets its reserve: one
    more code (sends) and a few more guesses (failures), and then it too is refused."""
    policy = OtpPolicy(
        max_attempts=3,
        max_failures=2,
        max_phone_failures=4,
        max_phone_sends=2,
        owner_reserve_sends=1,
        owner_reserve_failures=2,
        resend_cooldown_seconds=0,
    )
    service = make_service(policy)
    statuses = []
    for i in range(2):  # two strangers: two codes (the send ceiling), two wrong guesses each
        stranger = f"+1212555030{i}"
        await service.request_code(ON_FILE, session_id=f"s{i}", caller_phone=stranger)
        for _ in range(2):
            guess = await service.verify_code(
                ON_FILE, "000000", session_id=f"s{i}", caller_phone=stranger
            )
            statuses.append(guess.status)
    if "verified" in statuses:
        pytest.skip("drew 000000 as a real code")
    assert statuses == ["wrong_code", "locked", "wrong_code", "locked"]  # 4: the ceiling
    for caller in ("+16505550100", None):
        refused = await service.request_code(ON_FILE, session_id="x", caller_phone=caller)
        assert refused.status == "locked"

    # the patient, from the phone itself: one code from the reserve, and it verifies
    assert await asks_and_verifies(service, sender, "jane", PATIENT)
    # the reserve is small: one code per send window, two wrong guesses per failure window
    again = await service.request_code(ON_FILE, session_id="jane-2", caller_phone=PATIENT)
    assert again.status == "rate_limited"


async def test_the_owners_reserve_of_guesses_runs_out(make_service: ServiceFactory) -> None:
    """The reserve adds `owner_reserve_failures` guesses a day to what anyone can try
    (spoofing the patient's own number reaches it too): then the phone is locked for all."""
    policy = OtpPolicy(
        max_attempts=5,
        max_phone_failures=2,
        owner_reserve_failures=2,
        resend_cooldown_seconds=0,
    )
    service = make_service(policy)
    await service.request_code(ON_FILE, session_id="own", caller_phone=PATIENT)
    statuses = [
        (
            await service.verify_code(ON_FILE, "000000", session_id="own", caller_phone=PATIENT)
        ).status
        for _ in range(5)
    ]
    if "verified" in statuses:
        pytest.skip("drew 000000 as a real code")
    assert statuses == ["wrong_code", "wrong_code", "wrong_code", "locked", "locked"]
    assert policy.best_odds_per_phone == (2 + 2) / 10**6
    refused = await service.request_code(ON_FILE, session_id="own-2", caller_phone=PATIENT)
    assert refused.status == "locked"


async def test_a_full_phone_ceiling_raises_a_metric_and_a_warning(
    make_service: ServiceFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Staff can see an attack on a patient: the ceiling's metric and one audit warning
    naming the masked number and its keyed reference, never the number."""
    from prometheus_client import REGISTRY

    def tripped(ceiling: str) -> float:
        labels = {"ceiling": ceiling}
        return REGISTRY.get_sample_value("clinic_otp_phone_ceilings_total", labels) or 0.0

    caplog.set_level(logging.WARNING, logger="verification.audit")
    policy = OtpPolicy(
        max_attempts=3, max_phone_failures=2, max_phone_sends=2, resend_cooldown_seconds=0
    )
    service = make_service(policy)
    failures, sends = tripped("failures"), tripped("sends")
    for i in range(2):
        await service.request_code(ON_FILE, session_id=f"s{i}", caller_phone=f"+1212555040{i}")
    assert tripped("sends") == sends + 1
    for _ in range(2):
        await service.verify_code(ON_FILE, "000000", session_id="s0", caller_phone="+12125550400")
    assert tripped("failures") == failures + 1

    warnings = [r for r in caplog.records if getattr(r, "event", "") == "otp.phone_ceiling_reached"]
    assert [r.otp_ceiling for r in warnings] == ["sends", "failures"]  # type: ignore[attr-defined]
    assert {r.phone for r in warnings} == {"ending in 0123"}  # type: ignore[attr-defined]
    assert all(r.phone_ref and "5550123" not in str(r.__dict__) for r in warnings)  # type: ignore[attr-defined]


async def test_failure_windows_slide(make_service: ServiceFactory) -> None:
    """A fixed window reset 24 h after the first failure let 199 counted guesses fit in 6.6 h
    (100 at the end of one window, 99 at the start of the next). A sliding window holds at
    most the ceiling in any stretch of its length: as the oldest failures leave, only as
    many new ones fit as left."""
    policy = OtpPolicy(
        max_attempts=10,
        max_failures=100,
        max_phone_failures=4,
        failure_window_seconds=2,
        resend_cooldown_seconds=0,
    )
    service = make_service(policy)

    async def guess(session: str) -> str:
        return (
            await service.verify_code(ON_FILE, "000000", session_id=session, caller_phone=ATTACKER)
        ).status

    await service.request_code(ON_FILE, session_id="a", caller_phone=ATTACKER)
    first = [await guess("a"), await guess("a")]  # t = 0
    await asyncio.sleep(1.0)
    second = [await guess("a"), await guess("a")]  # t = 1: the 4th fills the window
    await asyncio.sleep(1.2)  # t = 2.2: the two from t = 0 have left, two remain
    await service.request_code(ON_FILE, session_id="b", caller_phone=ATTACKER)
    third = [await guess("b"), await guess("b")]
    if "verified" in first + second + third:
        pytest.skip("drew 000000 as a real code")
    assert first == ["wrong_code", "wrong_code"]
    assert second == ["wrong_code", "locked"]
    assert third == ["wrong_code", "locked"]  # a fixed window would have allowed four
