"""A bill the clinic controls (issue 19.5), on SQLite and a real Redis: a daily send budget
and a country allow-list, each answered the same for patients and strangers, and metrics
that show codes verified per code sent by country."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
from prometheus_client import REGISTRY

from tests.support.constants import NOT_ON_FILE, ON_FILE, PEPPER
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpPolicy, OtpService, OtpStore, RequestOutcome
from verification.outcomes import SENDING_PAUSED_MESSAGE

GB_ON_FILE = "+442079460958"  # a patient's number on file, in a country codes may not go to
GB_STRANGER = "+442079460959"  # on no record
CA_ON_FILE = "+16045550123"


@dataclass(frozen=True)
class Heard:
    status: str
    message: str
    code_pending: bool


def heard(outcome: RequestOutcome) -> Heard:
    """What a caller can observe (the last four digits made equal)."""
    message = outcome.message
    for last4 in ("0199", "0958", "0959"):
        message = message.replace(last4, "0123")
    return Heard(outcome.status, message, outcome.code_pending)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def service_for(
    store: OtpStore, sender: RecordingSmsSender, policy: OtpPolicy, *on_file: str
) -> OtpService:
    directory = StaticDirectory({ON_FILE, GB_ON_FILE, CA_ON_FILE, *on_file})
    return OtpService(store, sender, directory, policy, pepper=PEPPER)


# -- the daily send budget --------------------------------------------------------------------


async def test_a_spent_budget_answers_every_caller_the_same_and_raises_the_alarm(
    store: OtpStore, sender: RecordingSmsSender, caplog: pytest.LogCaptureFixture
) -> None:
    """Decoys are charged too, so a spent budget tells no one who is a patient: the two
    requests past it, one for a patient and one for a stranger, hear the same sentence."""
    caplog.set_level(logging.ERROR, logger="verification")
    service = service_for(store, sender, OtpPolicy(daily_send_budget=3))
    paused = sample("clinic_otp_sending_paused_total")
    callers = ["+12125550101", "+12125550102", "+12125550103", "+12125550104", None]
    phones = [ON_FILE, NOT_ON_FILE, ON_FILE, ON_FILE, NOT_ON_FILE]
    answers = [
        await service.request_code(phone, session_id=f"s{i}", caller_phone=caller)
        for i, (phone, caller) in enumerate(zip(phones, callers, strict=True))
    ]
    await service.drain()

    assert [a.status for a in answers] == ["sent", "sent", "sent", "unavailable", "unavailable"]
    assert (
        heard(answers[3])
        == heard(answers[4])
        == Heard("unavailable", SENDING_PAUSED_MESSAGE, False)
    )
    assert "staff" in SENDING_PAUSED_MESSAGE
    assert len(sender.sent) == 2  # the two real sends inside the budget; the decoy sent nothing
    assert sample("clinic_otp_sending_paused_total") == paused + 2
    alarms = [r for r in caplog.records if "daily send budget spent" in r.getMessage()]
    assert len(alarms) == 2 and all(r.levelno == logging.ERROR for r in alarms)
    assert all("5550123" not in str(r.__dict__) for r in alarms)
    # no code was issued past the budget: a guess finds none
    assert (await service.verify_code(ON_FILE, "000000", session_id="s3")).status == "no_code"


async def test_a_request_that_issues_no_code_gives_its_place_back(
    store: OtpStore, sender: RecordingSmsSender
) -> None:
    service = service_for(store, sender, OtpPolicy(daily_send_budget=2, resend_cooldown_seconds=30))
    assert (await service.request_code(ON_FILE, session_id="a")).sent
    for _ in range(3):  # cooling down: refused by the store, nothing charged
        assert (await service.request_code(ON_FILE, session_id="a")).status == "cooldown"
    assert (await service.request_code(NOT_ON_FILE, session_id="b")).sent
    assert (await service.request_code(ON_FILE, session_id="c")).status == "unavailable"


async def test_a_budget_of_zero_switches_sending_off(
    store: OtpStore, sender: RecordingSmsSender
) -> None:
    service = service_for(store, sender, OtpPolicy(daily_send_budget=0))
    answers = [
        heard(await service.request_code(phone, session_id="c")) for phone in (ON_FILE, NOT_ON_FILE)
    ]
    await service.drain()
    assert answers == [Heard("unavailable", SENDING_PAUSED_MESSAGE, False)] * 2
    assert sender.sent == []


# -- the country allow-list -------------------------------------------------------------------


async def test_a_number_on_file_outside_the_allowed_countries_hears_what_a_stranger_hears(
    store: OtpStore, sender: RecordingSmsSender
) -> None:
    policy = OtpPolicy(max_attempts=3, allowed_countries=frozenset({"US", "CA"}))
    service = service_for(store, sender, policy)
    patient = await service.request_code(GB_ON_FILE, session_id="p")
    stranger = await service.request_code(GB_STRANGER, session_id="s")
    us = await service.request_code(ON_FILE, session_id="u")
    ca = await service.request_code(CA_ON_FILE, session_id="c")
    await service.drain()

    assert heard(patient) == heard(stranger) == heard(us)
    assert [to for to, _ in sender.sent] == [ON_FILE, CA_ON_FILE]  # never the GB patient
    for _ in range(3):
        mine = await service.verify_code(GB_ON_FILE, "000000", session_id="p")
        theirs = await service.verify_code(GB_STRANGER, "000000", session_id="s")
        assert (mine.status, mine.attempts_left, mine.message) == (
            theirs.status,
            theirs.attempts_left,
            theirs.message,
        )
    assert ca.sent


# -- what staff see ---------------------------------------------------------------------------


async def test_codes_sent_and_verified_are_counted_by_country_calling_code(
    store: OtpStore, sender: RecordingSmsSender
) -> None:
    service = service_for(store, sender, OtpPolicy())
    sent_us, sent_gb = (
        sample("clinic_otp_codes_sent_total", country=c, channel="sms") for c in ("1", "44")
    )
    verified_us = sample("clinic_otp_codes_verified_total", country="1")
    await service.request_code(ON_FILE, session_id="u")
    await service.request_code(GB_ON_FILE, session_id="g")
    await service.request_code(NOT_ON_FILE, session_id="d")  # a decoy: nothing sent
    await service.drain()
    us_code = sender.sent[0][1].split("code is ")[1][:6]
    assert (await service.verify_code(ON_FILE, us_code, session_id="u")).verified

    assert sample("clinic_otp_codes_sent_total", country="1", channel="sms") == sent_us + 1
    assert sample("clinic_otp_codes_sent_total", country="44", channel="sms") == sent_gb + 1
    assert sample("clinic_otp_codes_verified_total", country="1") == verified_us + 1
