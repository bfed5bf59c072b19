"""A real AgentSession in text mode, driven by the scripted LLM, on real SQLite records."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from livekit.agents import AgentSession, RunResult

from agent import CallOptions, CallState, ClinicAgent, Services
from clinic import ClinicDB, Patient, demo
from tests.support.leaks import assert_no_leak, assert_not_said
from tests.support.scripted_llm import ScriptedLLM
from tests.support.sms import RecordingSmsSender
from verification import OtpPolicy, OtpService, SqliteOtpStore

PEPPER = b"eval-pepper-0123456789abcdef"


@dataclass
class Call:
    """One scripted phone call and everything a test inspects afterwards."""

    session: AgentSession[CallState]
    llm: ScriptedLLM
    state: CallState
    clinic: ClinicDB
    sms: RecordingSmsSender
    jane: Patient
    john: Patient
    greeting: RunResult[None]
    agent: ClinicAgent


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


@asynccontextmanager
async def open_call(
    clinic: ClinicDB,
    otp: OtpService,
    sms: RecordingSmsSender,
    options: CallOptions | None = None,
    session_id: str = "call-123",
    *,
    caller_phone: str | None = None,
    services: Services | None = None,
) -> AsyncIterator[Call]:
    """Start one scripted call on these backends (or on `services`, shared by several
    calls); the session closes on exit. `caller_phone` is the SIP caller ID, if any."""
    state = CallState(
        services=services or Services(clinic=clinic, otp=otp, options=options or CallOptions()),
        session_id=session_id,
        caller_phone=caller_phone,
    )
    scripted = ScriptedLLM()
    jane = await clinic.find_patient(demo.JANE.full_name, demo.JANE.date_of_birth)
    john = await clinic.find_patient(demo.JOHN.full_name, demo.JOHN.date_of_birth)
    assert jane is not None and john is not None
    async with AgentSession[CallState](llm=scripted, userdata=state) as session:
        agent = ClinicAgent(clinic_name="Bayview Clinic")
        greeting = await session.start(agent, capture_run=True)
        yield Call(session, scripted, state, clinic, sms, jane, john, greeting, agent)


@pytest.fixture
def caller_phone() -> str | None:
    """The SIP caller ID of the `call` fixture (None: console, or withheld)."""
    return None


@pytest.fixture
async def call(
    clinic: ClinicDB,
    tmp_path: Path,
    otp_policy: OtpPolicy,
    call_options: CallOptions,
    caller_phone: str | None,
    caplog: pytest.LogCaptureFixture,
) -> AsyncIterator[Call]:
    """One scripted call. Afterwards, whatever the scenario did, every code it generated is
    checked against the conversation, the project's logs (at DEBUG) and the metrics."""
    caplog.set_level(logging.DEBUG)
    sms = RecordingSmsSender()
    otp = OtpService(
        SqliteOtpStore(tmp_path / "otp.sqlite3"), sms, clinic, otp_policy, pepper=PEPPER
    )
    phones = {p.phone for p in demo.DEMO_PATIENTS} | {demo.NOT_ON_FILE_PHONE}
    async with open_call(clinic, otp, sms, call_options, caller_phone=caller_phone) as opened:
        yield opened
        await otp.drain()
        codes = {body.split("code is ")[1][:6] for _, body in sms.sent}
        assert_code_not_in_conversation(opened, codes)
        assert_agent_never_said(opened, codes, phones)
    await otp.aclose()
    assert_no_leak(caplog.records, codes, phones, where="scripted call")


def agent_said(call: Call) -> list[str]:
    """Everything the agent said (or showed) in the call: its assistant messages."""
    return [
        item.text_content or ""
        for item in call.session.history.items
        if item.type == "message" and item.role == "assistant"
    ]


def assert_agent_never_said(call: Call, codes: set[str], phones: set[str]) -> None:
    """Whatever the model wrote, no code and no full phone number was spoken or shown."""
    assert_not_said(agent_said(call), codes, phones)


def assert_code_not_in_conversation(call: Call, codes: set[str]) -> None:
    """Rule 7: no tool output and no assistant or system message holds a generated code
    (what the caller says, and the tool arguments made from it, are the caller's own)."""
    for item in call.session.history.items:
        if item.type == "function_call_output":
            text = item.output
        elif item.type == "message" and item.role != "user":
            text = item.text_content or ""
        else:
            continue
        for code in codes:
            assert code not in text, f"code in {item.type}: {text}"
