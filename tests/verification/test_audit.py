"""The audit trail: one record per event, masked phone, never a code (rule 7)."""

from __future__ import annotations

import logging

import pytest

from tests.support.constants import NOT_ON_FILE, ON_FILE
from tests.support.leaks import assert_no_leak
from tests.support.services import ServiceFactory
from tests.support.sms import RecordingSmsSender
from verification import OtpPolicy, SmsDeliveryError


def _events(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [getattr(r, "event", "") for r in caplog.records if r.name == "verification.audit"]


async def test_audit_records_each_event_without_codes_or_numbers(
    make_service: ServiceFactory, sender: RecordingSmsSender, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    service = make_service(
        OtpPolicy(
            max_attempts=3, max_phone_failures=3, max_phone_sends=3, resend_cooldown_seconds=0
        )
    )

    await service.request_code(ON_FILE, session_id="call-9")
    await service.drain()
    code = sender.last_code()
    await service.verify_code(ON_FILE, f"{(int(code) + 1) % 10**6:06d}", session_id="call-9")
    await service.verify_code(ON_FILE, code, session_id="call-9")
    await service.request_code(NOT_ON_FILE, session_id="call-9")
    await service.drain()
    sender.fail_with = SmsDeliveryError("down", provider="twilio", retryable=True)
    await service.request_code(ON_FILE, session_id="call-9")
    await service.drain()
    sender.fail_with = None
    await service.request_code(ON_FILE, session_id="call-9")
    await service.drain()
    await service.request_code(ON_FILE, session_id="call-9")
    await service.drain()
    await service.request_code(ON_FILE, session_id="call-9")  # 4th: over max_sends
    await service.drain()
    for _ in range(4):
        await service.verify_code(ON_FILE, "000000", session_id="call-9")

    events = _events(caplog)
    for expected in [
        "otp.requested",
        "otp.sent",
        "otp.not_on_file",
        "otp.verified",
        "otp.wrong_code",
        "otp.locked",
        "otp.rate_limited",
        "otp.delivery_failed",
    ]:
        assert expected in events, expected
    audit_records = [r for r in caplog.records if r.name == "verification.audit"]
    assert all(r.session_id == "call-9" for r in audit_records)  # type: ignore[attr-defined]
    assert {r.phone for r in audit_records} <= {"ending in 0123", "ending in 0199"}  # type: ignore[attr-defined]

    codes = {sender.last_code()} | {m[1].split("code is ")[1][:6] for m in sender.sent}
    assert_no_leak(caplog.records, codes, {ON_FILE, NOT_ON_FILE}, where="audit scenario")


async def test_requests_and_guesses_name_the_caller_by_a_keyed_hash_only(
    make_service: ServiceFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    service = make_service()
    await service.request_code(ON_FILE, session_id="c", caller_phone="+12125550100")
    await service.verify_code(ON_FILE, "000000", session_id="c", caller_phone="+12125550100")
    await service.verify_code(ON_FILE, "000000", session_id="c")
    await service.request_code(ON_FILE, session_id="d", caller_phone="(415) 555-0123")
    refs = [r.otp_caller_ref for r in caplog.records if hasattr(r, "otp_caller_ref")]
    assert len(refs) == 4  # the requests and both guesses
    assert refs[0] == refs[1] not in ("own", "withheld") and refs[2] == "withheld"
    assert refs[3] == "own"  # the caller ID is the phone itself
    assert all("2125550100" not in r.getMessage() + str(r.__dict__) for r in caplog.records)
