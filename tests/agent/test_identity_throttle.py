"""Name + date of birth (+ phone) is throttled across calls, per record and per caller number
(issue 9 items 1 and 2), through the real AgentSession, tools and code store.

Each test plays several calls on one set of services, as one clinic's worker would: a new
call (a redial) starts with a fresh `CallState` but the same store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import date
from pathlib import Path

import pytest
from livekit.agents import RunResult

from agent import Services
from agent.replies import (
    DATE_NOT_SAID,
    IDENTITY_CALL_LIMIT,
    IDENTITY_CALLER_LIMIT,
    IDENTITY_UNAVAILABLE,
    NAME_NOT_SAID,
    NO_MATCH,
)
from clinic import ClinicDB
from tests.support.clinic_calls import Call, open_call, say
from tests.support.constants import PEPPER
from tests.support.ports import free_port
from tests.support.sms import RecordingSmsSender
from verification import (
    IdentityThrottle,
    KnowledgePolicy,
    OtpService,
    RedisOtpStore,
    SqliteOtpStore,
    VerificationLevel,
)

JANE = {"full_name": "Jane Doe", "date_of_birth": "1985-04-12"}
CALLER = "+14155550177"  # the attacker's own phone: on no record


async def answer(call: Call, date_of_birth: str, phone: str | None = None) -> tuple[str, bool]:
    arguments: dict[str, object] = {"full_name": "Jane Doe", "date_of_birth": date_of_birth}
    said = f"Jane Doe, born {date_of_birth}"
    if phone is not None:
        arguments["phone"] = phone
        said += f", my number is {phone}"
    return await say(call, said, "verify_identity", **arguments)


class Clinic:
    """One clinic's backends, shared by the calls a test makes."""

    def __init__(self, records: ClinicDB, otp: OtpService, policy: KnowledgePolicy) -> None:
        self.records = records
        self.otp = otp
        self.sms = otp.sender
        self.services = Services(
            clinic=records, otp=otp, identity_throttle=IdentityThrottle(otp.store, policy)
        )
        self.calls = 0

    def call(self, caller_phone: str | None = None) -> AbstractAsyncContextManager[Call]:
        self.calls += 1
        sms = self.sms
        assert isinstance(sms, RecordingSmsSender)
        return open_call(
            self.records,
            self.otp,
            sms,
            session_id=f"call-{self.calls}",
            caller_phone=caller_phone,
            services=self.services,
        )


@pytest.fixture
def knowledge_policy() -> KnowledgePolicy:
    return KnowledgePolicy()


@pytest.fixture
async def clinic_line(
    clinic: ClinicDB, tmp_path: Path, knowledge_policy: KnowledgePolicy
) -> AsyncIterator[Clinic]:
    otp = OtpService(
        SqliteOtpStore(tmp_path / "otp.sqlite3"), RecordingSmsSender(), clinic, pepper=PEPPER
    )
    yield Clinic(clinic, otp, knowledge_policy)
    await otp.aclose()


async def test_wrong_dates_lock_the_record_across_calls_as_if_no_one_matched(
    clinic_line: Clinic,
) -> None:
    """Three wrong dates of birth for Jane, one per call from withheld numbers: then even
    the right answer gets exactly the sentence a name that matches no one gets."""
    for wrong in ("1985-04-13", "1985-05-12", "1986-04-12"):
        async with clinic_line.call() as call:
            output, is_error = await answer(call, wrong)
            assert (output, is_error) == (NO_MATCH, False)

    async with clinic_line.call() as call:
        right, _ = await answer(call, "1985-04-12")
        stranger, _ = await say(
            call, "Zed Nobody, January 1 1990", "verify_identity",
            full_name="Zed Nobody", date_of_birth="1990-01-01",
        )  # fmt: skip
        assert right == stranger == NO_MATCH
        assert call.state.grants == {}

        # the code route and staff remain
        await say(call, "Text me at 415 555 0123", "request_otp", patient_phone="415 555 0123")
        code = call.sms.last_code()
        verified, _ = await say(call, code, "verify_otp", code=code)
        assert "Verified for Jane Doe" in verified
        assert call.state.level_for(call.jane.id) == VerificationLevel.LEVEL_2


async def test_phone_guesses_count_against_the_record(clinic_line: Clinic) -> None:
    """With the right name and date of birth a caller cannot try phones one by one: each
    wrong phone is a failure that answers like any other, and the limit ends the route."""
    async with clinic_line.call() as call:
        for phone in ("415 555 0101", "415 555 0102", "415 555 0103"):
            output, _ = await answer(call, "1985-04-12", phone)
            assert output == NO_MATCH
    async with clinic_line.call() as call:
        output, _ = await answer(call, "1985-04-12", "415 555 0123")  # the right one, too late
        assert output == NO_MATCH and call.state.grants == {}


async def test_a_right_answer_gives_its_count_back(clinic_line: Clinic) -> None:
    """Jane herself calling again and again is never locked out by her right answers: each
    is charged in advance and given back. Her wrong ones stay counted for the window (a
    right answer must not wipe them, or a caller who knows the date could go on trying
    phones between right answers)."""
    for _ in range(5):
        async with clinic_line.call() as call:
            output, _ = await answer(call, "1985-04-12")
            assert output.startswith("Verified Jane Doe")
    for _ in range(2):
        async with clinic_line.call() as call:
            await answer(call, "1985-04-13")
            output, _ = await answer(call, "1985-04-12", "415 555 0123")
            assert output.startswith("Verified Jane Doe")
    async with clinic_line.call() as call:
        await answer(call, "1985-04-12", "415 555 0124")  # a third failure, by phone
        output, _ = await answer(call, "1985-04-12")
        assert output == NO_MATCH


@pytest.mark.parametrize("knowledge_policy", [KnowledgePolicy(max_failures_per_record=10)])
async def test_one_caller_number_is_limited_across_records(clinic_line: Clinic) -> None:
    """A caller trying many people's details from one number is stopped by the caller
    limit (5 by default), whoever they aim at; the answer names no record."""
    guesses = [
        ("John Smith", "1972-09-29"),
        ("Maria Garcia", "1980-06-04"),
        ("Zed Nobody", "1990-01-01"),
    ]
    async with clinic_line.call(CALLER) as call:
        for name, dob in guesses:
            output, _ = await say(
                call, f"{name}, {dob}", "verify_identity", full_name=name, date_of_birth=dob
            )
            assert output == NO_MATCH
    async with clinic_line.call(CALLER) as call:
        for _ in range(2):
            output, _ = await answer(call, "1985-04-13")
            assert output == NO_MATCH
        output, is_error = await answer(call, "1985-04-12")  # right, but from a blocked number
        assert is_error and output == IDENTITY_CALLER_LIMIT and call.state.grants == {}
    async with clinic_line.call("+14155550166") as call:
        output, _ = await answer(call, "1985-04-12")  # Jane's record itself is not locked
        assert output.startswith("Verified Jane Doe")


@pytest.mark.parametrize("knowledge_policy", [KnowledgePolicy(max_failures_per_record=4)])
async def test_parallel_answers_in_one_turn_respect_the_call_limit_exactly(
    clinic_line: Clinic,
) -> None:
    """Five verify_identity calls in one model turn: three are evaluated (the per-call
    limit), two are refused before they reach the store, and the store counted exactly three
    against the record (a fourth wrong answer is still allowed, a fifth is not)."""
    async with clinic_line.call() as call:
        wrong = [
            ("verify_identity", {**JANE, "date_of_birth": f"1985-04-{d}"}) for d in range(13, 18)
        ]
        call.llm.call_parallel(*wrong)
        said = "Jane Doe. " + " Or ".join(f"April {d} 1985." for d in range(13, 18))
        result: RunResult[None] = await call.session.run(user_input=said)
        outputs = [
            (e.item.output, e.item.is_error)
            for e in result.events
            if e.type == "function_call_output"
        ]
        assert sorted(outputs) == sorted(
            [(NO_MATCH, False)] * 3 + [(IDENTITY_CALL_LIMIT, True)] * 2
        )
        assert call.state.identity_failures == 3 and not call.state.in_flight

    async with clinic_line.call() as call:
        output, _ = await answer(call, "1985-04-12")  # 3 counted < 4: allowed, and given back
        assert output.startswith("Verified Jane Doe")
        await answer(call, "1985-04-20")  # the fourth failure
    async with clinic_line.call() as call:
        output, _ = await answer(call, "1985-04-12")
        assert output == NO_MATCH  # 4 counted: locked


async def test_identity_store_unreachable_is_said_and_grants_nothing(
    clinic: ClinicDB, tmp_path: Path
) -> None:
    store = RedisOtpStore.from_url(f"redis://127.0.0.1:{free_port()}", socket_timeout=0.5)
    sms = RecordingSmsSender()
    otp = OtpService(store, sms, clinic, pepper=PEPPER)
    try:
        async with open_call(clinic, otp, sms) as call:
            output, is_error = await answer(call, "1985-04-12")
            assert is_error and output == IDENTITY_UNAVAILABLE
            assert "transfer_to_staff" in output and call.state.grants == {}
            assert call.state.identity_failures == 0  # nothing was evaluated
    finally:
        await otp.aclose()


async def test_services_take_the_knowledge_limits_the_service_was_configured_with(
    tmp_path: Path,
) -> None:
    """`Services` without an explicit throttle uses the OTP service's own: its store, its
    `KBA_*` policy and its pepper (a default policy here would ignore the clinic's settings)."""
    strict = KnowledgePolicy(max_failures_per_record=1, max_failures_per_caller=1)
    otp = OtpService(
        SqliteOtpStore(tmp_path / "otp.sqlite3"),
        RecordingSmsSender(),
        ClinicDB(tmp_path / "clinic.sqlite3"),
        pepper=PEPPER,
        knowledge_policy=strict,
    )
    services = Services(clinic=ClinicDB(tmp_path / "clinic.sqlite3"), otp=otp)
    assert services.throttle.store is otp.store and services.throttle.policy == strict
    assert (await services.throttle.attempt(record_id="P1", caller_phone=None)).allowed
    assert not (await services.throttle.attempt(record_id="P1", caller_phone=None)).allowed
    await otp.aclose()


# -- only charged records answer; a crowded name closes the route (issue 15 item 2) ----------


async def add_namesakes(records: ClinicDB, count: int) -> list[str]:
    """`count` patients named Maria Lopez, each born on a different day of 1990."""
    return [
        await records.add_patient("Maria Lopez", date(1990, 1, day + 1), f"+1415555{day + 2000}")
        for day in range(count)
    ]


async def maria_lopez(call: Call, born: str) -> str:
    output, _ = await say(
        call, f"Maria Lopez, born {born}", "verify_identity",
        full_name="Maria Lopez", date_of_birth=born,
    )  # fmt: skip
    return output


async def test_a_name_matching_more_records_than_one_answer_may_charge_is_closed(
    clinic_line: Clinic,
) -> None:
    """Eleven patients share a name (one answer charges at most ten): even the right date of
    birth of one of them gets the answer a stranger's name gets, and nothing is counted
    against any of them; the code route stays open. (The old rule charged only the record a
    date matched, so redialling with new dates reached the records past the charged ones.)"""
    await add_namesakes(clinic_line.records, 11)
    async with clinic_line.call() as call:
        assert await maria_lopez(call, "1990-01-11") == NO_MATCH
        assert call.state.grants == {}


async def test_a_date_is_compared_only_with_records_that_were_charged(
    clinic_line: Clinic,
) -> None:
    """Three namesakes: each wrong date is charged to all three, so three wrong dates lock
    every one of them, and the right date of any of them then answers as no one."""
    await add_namesakes(clinic_line.records, 3)
    for wrong in ("1990-02-01", "1990-02-02", "1990-02-03"):
        async with clinic_line.call() as call:
            assert await maria_lopez(call, wrong) == NO_MATCH
    async with clinic_line.call() as call:
        for born in ("1990-01-01", "1990-01-02", "1990-01-03"):
            assert await maria_lopez(call, born) == NO_MATCH
        assert call.state.grants == {}


async def test_a_right_answer_among_namesakes_costs_them_nothing(clinic_line: Clinic) -> None:
    """A patient's right answer is no failure: it charges her own record, gives it back, and
    costs her namesakes nothing, so her logins never lock the others out."""
    await add_namesakes(clinic_line.records, 3)
    for _ in range(4):
        async with clinic_line.call() as call:
            assert (await maria_lopez(call, "1990-01-01")).startswith("Verified Maria Lopez")
    async with clinic_line.call() as call:
        assert (await maria_lopez(call, "1990-01-02")).startswith("Verified Maria Lopez")


# -- a shared phone, not blocked by a stranger (issue 15 item 3) --------------------------------


async def test_a_stranger_locking_lucas_does_not_stop_maria_naming_him_on_their_phone(
    clinic_line: Clinic,
) -> None:
    """Three wrong dates of birth for Lucas lock his record for a day. Maria, holding the
    right code for the phone she shares with Lucas, can still name him: on a proven phone a
    name is charged to its own small counter, not to the record's."""
    async with clinic_line.call() as call:
        for wrong in ("2014-11-20", "2014-11-22", "2014-10-21"):
            output, _ = await say(
                call, f"Lucas Garcia, {wrong}", "verify_identity",
                full_name="Lucas Garcia", date_of_birth=wrong,
            )  # fmt: skip
            assert output == NO_MATCH
    shared = "415 555 0142"
    async with clinic_line.call() as call:
        await say(call, f"Text me at {shared}", "request_otp", patient_phone=shared)
        code = call.sms.last_code()
        output, _ = await say(call, f"It's {code}", "verify_otp", code=code)
        assert "share" in output  # a shared phone: no one yet
        output, _ = await say(
            call, "It's about my son, Lucas Garcia, November 21 2014", "verify_identity",
            full_name="Lucas Garcia", date_of_birth="2014-11-21",
        )  # fmt: skip
        assert output.startswith("Verified Lucas Garcia")
        lucas = next(p for p in await call.clinic.patients_named("Lucas Garcia"))
        assert call.state.level_for(lucas.id) == VerificationLevel.LEVEL_2


# -- only what the caller said is evaluated, and charged (issue 15 item 4) --------------------


@pytest.mark.parametrize(
    ("said", "arguments", "refusal"),
    [
        # the model invents a date of birth the caller never gave
        ("I'm Jane Doe", {"full_name": "Jane Doe", "date_of_birth": "1985-04-12"},
         DATE_NOT_SAID),
        # or fills in a name from somewhere else
        ("I was born April 12 1985", {"full_name": "Jane Doe", "date_of_birth": "1985-04-12"},
         NAME_NOT_SAID),
    ],
)  # fmt: skip
async def test_a_fact_the_caller_never_said_is_refused_and_costs_nothing(
    clinic_line: Clinic, said: str, arguments: dict[str, str], refusal: str
) -> None:
    async with clinic_line.call(CALLER) as call:
        for _ in range(4):  # more than the call's three tries, the record's three, ...
            output, is_error = await say(call, said, "verify_identity", **arguments)
            assert (output, is_error) == (refusal, True)
        assert call.state.identity_failures == 0 and call.state.grants == {}
    async with clinic_line.call(CALLER) as call:  # ... and nothing was counted anywhere
        output, _ = await answer(call, "1985-04-12")
        assert output.startswith("Verified Jane Doe")
