"""Fixtures for scripted clinic calls (the call itself is in `tests/support/clinic_calls.py`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent import CallOptions
from clinic import ClinicDB, demo
from tests.support.clinic_calls import (
    Call,
    assert_agent_never_said,
    assert_code_not_in_conversation,
    open_call,
)
from tests.support.constants import PEPPER
from tests.support.leaks import assert_no_leak
from tests.support.livekit_standin import LiveKitSipStandin
from tests.support.sms import RecordingSmsSender, codes_in
from verification import OtpPolicy, OtpService, SqliteOtpStore, VoiceSender


@pytest.fixture
async def clinic(tmp_path: Path) -> AsyncIterator[ClinicDB]:
    db = ClinicDB(tmp_path / "clinic.sqlite3")
    await db.load_demo()
    yield db
    await db.aclose()


@pytest.fixture
def otp_policy() -> OtpPolicy:
    return OtpPolicy()


@pytest.fixture
def call_options() -> CallOptions:
    return CallOptions(front_desk_phone="415 555 0100", front_desk_hours="weekdays 8 to 5")


@pytest.fixture
def caller_phone() -> str | None:
    """The SIP caller ID of the `call` fixture (None: console, or withheld)."""
    return None


@pytest.fixture
def voice_sender() -> VoiceSender | None:
    """What places the automated calls of the `call` fixture's OTP service (None: it
    cannot call, it only texts)."""
    return None


@pytest.fixture
async def call(
    clinic: ClinicDB,
    tmp_path: Path,
    otp_policy: OtpPolicy,
    call_options: CallOptions,
    caller_phone: str | None,
    voice_sender: VoiceSender | None,
    caplog: pytest.LogCaptureFixture,
) -> AsyncIterator[Call]:
    """One scripted call. Afterwards, whatever the scenario did, every code it generated is
    checked against the conversation, the project's logs (at DEBUG) and the metrics."""
    caplog.set_level(logging.DEBUG)
    sms = RecordingSmsSender()
    otp = OtpService(
        SqliteOtpStore(tmp_path / "otp.sqlite3"),
        sms,
        clinic,
        otp_policy,
        pepper=PEPPER,
        voice_sender=voice_sender,
    )
    phones = {p.phone for p in demo.DEMO_PATIENTS} | {demo.NOT_ON_FILE_PHONE}
    async with open_call(clinic, otp, sms, call_options, caller_phone=caller_phone) as opened:
        yield opened
        await otp.drain()
        codes = codes_in(body for _, body in sms.sent)
        assert_code_not_in_conversation(opened, codes)
        assert_agent_never_said(opened, codes, phones)
    await otp.aclose()
    assert_no_leak(caplog.records, codes, phones, where="scripted call")


@pytest.fixture
async def livekit_server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[LiveKitSipStandin]:
    """LiveKit's server APIs on loopback (SIP transfer, room deletion), with the credentials
    the agent's LiveKit client reads from the environment."""
    server = LiveKitSipStandin()
    await server.start()
    monkeypatch.setenv("LIVEKIT_URL", server.url)
    monkeypatch.setenv("LIVEKIT_API_KEY", "devkey")
    monkeypatch.setenv("LIVEKIT_API_SECRET", "devsecret-devsecret-devsecret-0123")
    yield server
    await server.stop()
