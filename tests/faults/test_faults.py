"""Faults during a call: Redis dies, every SMS provider fails, SQLite stays locked.

Each test runs the real agent tools on real components (a private redis-server that the
test kills and restarts, the real SMS SDKs against stand-ins that fail, a second process
holding SQLite's write lock) and checks what the caller would hear: a clear sentence and an
offer of staff, never an internal error, never a grant, nothing half-written.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent import CallOptions
from clinic import ClinicDB
from tests.support.clinic_calls import open_call, say
from tests.support.constants import PEPPER
from tests.support.ports import free_port
from tests.support.redis_server import RedisServer
from tests.support.sms import RecordingSmsSender
from tests.support.sns_standin import AWS_KEY_ID, AWS_SECRET, SnsStandIn
from tests.support.standin_server import Reply
from tests.support.twilio_standin import TWILIO_SID, TWILIO_TOKEN, TwilioStandIn
from verification import OtpService, RedisOtpStore, SqliteOtpStore
from verification.sms.settings import SmsSettings

JANE_PHONE = "415 555 0123"
INTERNAL_ERROR = "An internal error occurred"


def assert_clean(output: str) -> None:
    """A tool answered in words: no exception other than ToolError escaped it."""
    assert INTERNAL_ERROR not in output


@pytest.fixture
async def clinic(tmp_path: Path) -> AsyncIterator[ClinicDB]:
    db = ClinicDB(tmp_path / "clinic.sqlite3", busy_timeout=0.5)
    await db.load_demo()
    yield db
    await db.aclose()


# -- Redis stops in the middle of a call --------------------------------------------------


async def test_redis_dies_mid_call_and_comes_back(tmp_path: Path, clinic: ClinicDB) -> None:
    try:
        redis = RedisServer(tmp_path / "redis")
    except FileNotFoundError:
        pytest.skip("redis-server is not installed")
    redis.start()
    sms = RecordingSmsSender()
    store = RedisOtpStore.from_url(redis.url, socket_timeout=0.5)
    otp = OtpService(store, sms, clinic, pepper=PEPPER)
    try:
        async with open_call(clinic, otp, sms) as call:
            await say(call, "Text me at 415 555 0123", "request_otp", patient_phone=JANE_PHONE)
            await otp.drain()
            code = sms.last_code()

            redis.stop()
            checked, is_error = await say(call, code, "verify_otp", code=code)
            again, _ = await say(
                call, "Send another to 415 555 0123", "request_otp", patient_phone=JANE_PHONE
            )

            for output in (checked, again):
                assert_clean(output)
                assert "isn't available right now" in output and "transfer_to_staff" in output
            assert not is_error
            assert call.state.grants == {}  # an outage never verifies anyone

            redis.start()  # same port, empty: the agent reconnects on its own
            sent, _ = await say(
                call, "Try again, 415 555 0123", "request_otp", patient_phone=JANE_PHONE
            )
            assert sent.startswith("I've texted a 6-digit code")
            await otp.drain()
            code = sms.last_code()
            verified, _ = await say(call, code, "verify_otp", code=code)
            assert "Verified for Jane Doe" in verified
    finally:
        await otp.aclose()
        redis.stop()


# -- every SMS provider fails -------------------------------------------------------------


def _env(twilio_url: str, sns_url: str | None, deadline: float) -> dict[str, str]:
    env = {
        "SMS_PROVIDERS": "twilio,sns" if sns_url else "twilio",
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_PHONE_NUMBER": "+15005550006",
        "TWILIO_BASE_URL": twilio_url,
        "SMS_ATTEMPT_TIMEOUT_SECONDS": str(deadline / 2),
        "SMS_DEADLINE_SECONDS": str(deadline),
    }
    if sns_url:
        env |= {
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": AWS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
            "SNS_ENDPOINT_URL": sns_url,
        }
    return env


@pytest.mark.parametrize("failure", ["http_500", "hangs", "refuses_connections"])
async def test_every_provider_failing_changes_nothing_the_caller_hears(
    failure: str,
    tmp_path: Path,
    clinic: ClinicDB,
    twilio_standin: TwilioStandIn,
    sns_standin: SnsStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The caller hears "sent" as soon as the code is stored, whatever the providers do (a
    failure must not tell a patient's number from a stranger's); the failure goes to the
    audit log, and the send that may have left still counts (the next request cools down)."""
    caplog.set_level(logging.INFO, logger="verification.audit")
    deadline = 1.5
    if failure == "http_500":
        twilio_standin.fail(Reply(500, 20500, "Internal Server Error"))
        sns_standin.fail(Reply(500, "InternalError", "internal"))
    elif failure == "hangs":
        twilio_standin.delay = sns_standin.delay = 30.0
    twilio_url = (
        f"http://127.0.0.1:{free_port()}"
        if failure == "refuses_connections"
        else twilio_standin.url
    )
    sns_url = (
        f"http://127.0.0.1:{free_port()}" if failure == "refuses_connections" else sns_standin.url
    )
    sender = SmsSettings.from_env(_env(twilio_url, sns_url, deadline)).build_sms_sender(
        validity_seconds=300
    )
    otp = OtpService(SqliteOtpStore(tmp_path / "otp.sqlite3"), sender, clinic, pepper=PEPPER)
    try:
        async with open_call(clinic, otp, RecordingSmsSender()) as call:
            output, _ = await say(
                call, "Text me at 415 555 0123", "request_otp", patient_phone=JANE_PHONE
            )
            assert_clean(output)
            assert output.startswith("I've texted a 6-digit code")
            await otp.drain()  # the send ends within the SMS deadline, however it ends
            events = [getattr(r, "event", "") for r in caplog.records]
            assert "otp.delivery_failed" in events and "otp.sent" not in events
            again, _ = await say(
                call, "Try again, 415 555 0123", "request_otp", patient_phone=JANE_PHONE
            )
            assert_clean(again)
            assert "just sent" in again  # the cooldown: a send that may have left counts
    finally:
        await otp.aclose()


async def test_failover_to_a_healthy_provider(
    tmp_path: Path, clinic: ClinicDB, twilio_standin: TwilioStandIn, sns_standin: SnsStandIn
) -> None:
    twilio_standin.fail(Reply(503, 20503, "Service Unavailable"))
    sender = SmsSettings.from_env(_env(twilio_standin.url, sns_standin.url, 4.0)).build_sms_sender(
        validity_seconds=300
    )
    otp = OtpService(SqliteOtpStore(tmp_path / "otp.sqlite3"), sender, clinic, pepper=PEPPER)
    try:
        async with open_call(clinic, otp, RecordingSmsSender()) as call:
            output, _ = await say(
                call, "Text me at 415 555 0123", "request_otp", patient_phone=JANE_PHONE
            )
            assert output.startswith("I've texted a 6-digit code")
            await otp.drain()
            assert len(twilio_standin.requests) == 1 and len(sns_standin.requests) == 1
            message = sns_standin.requests[0].form["Message"]
            code = message.split("code is ")[1][:6]
            verified, _ = await say(call, code, "verify_otp", code=code)
            assert "Verified for Jane Doe" in verified
    finally:
        await otp.aclose()


# -- SQLite stays locked by another process -----------------------------------------------


class WriteLockHolder:
    """Another process that takes SQLite's write lock on `path` and keeps it until stopped."""

    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable, "-c",
                "import sqlite3, sys, time\n"
                "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                "db.execute('BEGIN IMMEDIATE')\n"
                "print('locked', flush=True)\n"
                "time.sleep(60)\n",
                str(path),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "locked"

    def release(self) -> None:
        self.process.kill()
        self.process.wait(10)


async def test_locked_clinic_database_fails_cleanly_then_recovers(
    tmp_path: Path, clinic: ClinicDB
) -> None:
    sms = RecordingSmsSender()
    otp = OtpService(SqliteOtpStore(tmp_path / "otp.sqlite3"), sms, clinic, pepper=PEPPER)
    appointment = None
    async with open_call(clinic, otp, sms, CallOptions()) as call:
        await say(
            call, "Jane Doe, April 12 1985, 415 555 0123", "verify_identity",
            full_name="Jane Doe", date_of_birth="1985-04-12", phone=JANE_PHONE,
        )  # fmt: skip
        appointment = (await clinic.appointments_for(call.jane.id))[0]
        new_slot = (await clinic.open_slots(limit=1))[0]

        holder = WriteLockHolder(Path(clinic.path))
        try:
            started = time.monotonic()
            moved, moved_error = await say(
                call, "Move it", "reschedule_appointment",
                appointment_id=appointment.id, new_slot_id=new_slot.id,
            )  # fmt: skip
            cancelled, cancel_error = await say(
                call, "Cancel it", "cancel_appointment", appointment_id=appointment.id
            )
            waited = time.monotonic() - started
        finally:
            holder.release()

        for output, is_error in ((moved, moved_error), (cancelled, cancel_error)):
            assert is_error and "appointment system isn't available" in output
        assert waited < 10, "a locked database must not hold the call for long"
        unchanged = await clinic.get_appointment(appointment.id)
        assert (unchanged.slot_id, unchanged.status) == (appointment.slot_id, "booked")
        assert await clinic.is_slot_open(new_slot.id)  # nothing half-written

        done, is_error = await say(
            call, "Cancel it now", "cancel_appointment", appointment_id=appointment.id
        )
        assert not is_error and done.startswith("Cancelled")
    await otp.aclose()


async def test_locked_code_store_is_unavailable_then_recovers(
    tmp_path: Path, clinic: ClinicDB
) -> None:
    sms = RecordingSmsSender()
    store = SqliteOtpStore(tmp_path / "otp.sqlite3", busy_timeout_seconds=0.5)
    otp = OtpService(store, sms, clinic, pepper=PEPPER)
    async with open_call(clinic, otp, sms) as call:
        await say(
            call, "Text me at 415 555 0123", "request_otp", patient_phone=JANE_PHONE
        )  # creates the file
        await otp.drain()
        code = sms.last_code()
        holder = WriteLockHolder(tmp_path / "otp.sqlite3")
        try:
            checked, _ = await say(call, code, "verify_otp", code=code)
        finally:
            holder.release()
        assert_clean(checked)
        assert "isn't available right now" in checked and call.state.grants == {}
        verified, _ = await say(call, code, "verify_otp", code=code)
        assert "Verified for Jane Doe" in verified  # the code survived: nothing was lost
    await otp.aclose()
