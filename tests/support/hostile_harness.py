"""One fresh scripted call per Hypothesis example, and the snapshots the properties compare.

Hypothesis does not reset pytest fixtures between examples, so nothing here is a fixture:
each example opens its own demo clinic database, OTP store and real `AgentSession` (driven by
the scripted LLM of `tests/support/scripted_llm.py`) and closes them again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livekit.agents import AgentSession, RunResult

from agent import CallOptions, CallState, ClinicAgent, Services
from clinic import ClinicDB, demo
from tests.support.constants import PEPPER
from tests.support.leaks import assert_no_leak, assert_not_said, captured_logs
from tests.support.scripted_llm import ScriptedLLM
from tests.support.sms import RecordingSmsSender, codes_in
from verification import OtpService, SqliteOtpStore, VerificationLevel

INTERNAL_ERROR = "An internal error occurred"
TABLES = ("patients", "providers", "slots", "appointments", "appointment_events")

JANE_PHONE = "415 555 0123"
DEMO_PHONES = {p.phone for p in demo.DEMO_PATIENTS} | {demo.NOT_ON_FILE_PHONE}
JANE_NAME = "Jane Doe"
JANE_DOB = "April 12 1985"


@dataclass
class KnownIds:
    """Real ids in this example's database, so hostile calls can aim at real records."""

    jane_patient: str
    jane_appointments: list[str]
    other_appointments: list[str]  # John's and Lucas's: never Jane's caller's to touch
    open_slots: list[str]
    patients: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return [
            self.jane_patient,
            *self.jane_appointments,
            *self.other_appointments,
            *self.open_slots,
            *self.patients,
        ]


@dataclass
class Call:
    session: AgentSession[CallState]
    llm: ScriptedLLM
    state: CallState
    clinic: ClinicDB
    db_path: Path
    sms: RecordingSmsSender
    ids: KnownIds


@dataclass(frozen=True)
class StateSnapshot:
    grants: dict[str, Any]
    active_patient_id: str | None
    otp_phone: str | None
    identity_failures: int
    proven_phone: Any
    new_bookings: int


def snapshot_db(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the clinic's tables, read through a separate read-only connection."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()  # noqa: S608
            for table in TABLES
        }
    finally:
        conn.close()


def snapshot_state(state: CallState) -> StateSnapshot:
    return StateSnapshot(
        grants={pid: dict(levels) for pid, levels in state.grants.items()},
        active_patient_id=state.active_patient_id,
        otp_phone=state.otp_phone,
        identity_failures=state.identity_failures,
        proven_phone=state.proven_phone,
        new_bookings=state.new_bookings,
    )


@asynccontextmanager
async def open_call(root: Path, *, caller_phone: str | None = None) -> AsyncIterator[Call]:
    db_path = root / "clinic.sqlite3"
    clinic = ClinicDB(db_path)
    await clinic.load_demo()
    sms = RecordingSmsSender()
    otp = OtpService(SqliteOtpStore(root / "otp.sqlite3"), sms, clinic, pepper=PEPPER)
    state = CallState(
        services=Services(clinic=clinic, otp=otp, options=CallOptions()),
        session_id="hostile-call",
        caller_phone=caller_phone,
    )
    jane = await clinic.find_patient(demo.JANE.full_name, demo.JANE.date_of_birth)
    john = await clinic.find_patient(demo.JOHN.full_name, demo.JOHN.date_of_birth)
    lucas = await clinic.find_patient(demo.LUCAS.full_name, demo.LUCAS.date_of_birth)
    maria = await clinic.find_patient(demo.MARIA.full_name, demo.MARIA.date_of_birth)
    assert jane and john and lucas and maria
    ids = KnownIds(
        jane_patient=jane.id,
        jane_appointments=[a.id for a in await clinic.appointments_for(jane.id)],
        other_appointments=[
            a.id for patient in (john, lucas) for a in await clinic.appointments_for(patient.id)
        ],
        open_slots=[s.id for s in await clinic.open_slots(limit=5)],
        patients=[john.id, lucas.id, maria.id],
    )
    scripted = ScriptedLLM()
    try:
        with captured_logs() as records:
            async with AgentSession[CallState](llm=scripted, userdata=state) as session:
                await session.start(ClinicAgent(clinic_name="Bayview Clinic"))
                yield Call(session, scripted, state, clinic, db_path, sms, ids)
                await otp.drain()
                codes = codes_in(body for _, body in sms.sent)
                said = [
                    i.text_content or ""
                    for i in session.history.items
                    if i.type == "message" and i.role == "assistant"
                ]
                assert_not_said(said, codes, DEMO_PHONES, where="the hostile call's agent")
            assert_no_leak(records, codes, DEMO_PHONES, where="hostile call")
    finally:
        await otp.aclose()
        await clinic.aclose()


async def run_tool(
    call: Call, tool: str, arguments: dict[str, Any], *, said: str | None = None
) -> tuple[str, bool]:
    """Have the scripted LLM call `tool` with these (JSON) arguments after the caller says
    `said` (default: just "please <tool>"); (output, is_error)."""
    call.llm.call(tool, **arguments)
    result: RunResult[None] = await call.session.run(user_input=said or f"please {tool}")
    await call.state.services.otp.drain()
    call_ids = {
        e.item.call_id for e in result.events if e.type == "function_call" and e.item.name == tool
    }
    outputs = [
        (e.item.output, e.item.is_error)
        for e in result.events
        if e.type == "function_call_output" and e.item.call_id in call_ids
    ]
    assert len(outputs) == 1, f"expected one output of {tool}, got {outputs!r}"
    return outputs[0]


# -- reaching a verification level through the real tools ------------------------------------

LEVELS = ("none", "level1", "level2_phone", "otp_pending", "level2_otp")


async def reach(call: Call, level: str) -> None:
    if level == "none":
        return
    if level == "level1":
        output, is_error = await run_tool(
            call,
            "verify_identity",
            {"full_name": JANE_NAME, "date_of_birth": JANE_DOB},
            said=f"{JANE_NAME}, {JANE_DOB}",
        )
        assert not is_error and "Verified Jane Doe" in output, output
    elif level == "level2_phone":
        output, is_error = await run_tool(
            call,
            "verify_identity",
            {"full_name": JANE_NAME, "date_of_birth": JANE_DOB, "phone": JANE_PHONE},
            said=f"{JANE_NAME}, {JANE_DOB}, my number is {JANE_PHONE}",
        )
        assert not is_error and "cancel and reschedule" in output, output
    elif level in ("otp_pending", "level2_otp"):
        output, is_error = await run_tool(
            call, "request_otp", {"patient_phone": JANE_PHONE}, said=f"Text me at {JANE_PHONE}"
        )
        assert not is_error and output.startswith("I've texted"), output
        if level == "level2_otp":
            code = call.sms.last_code()
            output, is_error = await run_tool(call, "verify_otp", {"code": code}, said=code)
            assert not is_error and "verified" in output.lower(), output
    else:
        raise AssertionError(level)
    expected = VerificationLevel.LEVEL_2 if "level2" in level else VerificationLevel.LEVEL_1
    if level != "otp_pending":
        assert call.state.level_for(call.ids.jane_patient) == expected
