"""Many scripted phone calls at once in one process: the load test's and `bench/calls.py`'s
shared plumbing (no pytest imports).

Every call is a real `AgentSession` with its own `ScriptedLLM` and `CallState` (its own
session id), sharing one `Services` (one set of records, one `OtpService` on Redis, one Twilio
sender pointed at the local stand-in), as the calls of one LiveKit worker process would. A
call plays: identify (name + date of birth) -> request a code -> one wrong code -> the right
code (read from what the Twilio stand-in received for that call's phone) -> try to cancel a
neighbour's appointment (must be refused) -> cancel, or reschedule, its own appointment.
Rescheduling calls first try a slot shared by several calls (only one may win it) and fall
back to a spare slot of their own when told the time was taken.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from livekit.agents import AgentSession, FunctionToolsExecutedEvent, RunResult

from agent import CallState, ClinicAgent, Services
from clinic import ClinicRecords
from tests.support.constants import PEPPER
from tests.support.scripted_llm import ScriptedLLM
from tests.support.twilio_standin import TWILIO_SID, TWILIO_TOKEN, TwilioStandIn
from verification import OtpPolicy, OtpService, RedisOtpStore, TwilioSmsSender, normalize_phone

CLINIC_NAME = "Load Test Clinic"
HOME_PROVIDER = "Dr. Home"  # every caller's booked appointment
SPARE_PROVIDER = "Dr. Spare"  # one private fallback slot per rescheduling caller
SHARED_PROVIDER = "Dr. Shared"  # the few slots rescheduling callers race for
NOT_YOURS = "I can't find that appointment among this caller's appointments."
SLOT_TAKEN = "Sorry, that time has just been taken. Let's pick another time."
WRONG_ONCE = "That code isn't right. You have 2 more tries."
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def load_services(
    clinic: ClinicRecords,
    redis_url: str,
    key_prefix: str,
    twilio: TwilioStandIn,
    *,
    otp_class: type[OtpService] = OtpService,
) -> Services:
    """What every load run's calls share, as production builds it: codes in Redis, texts
    through the real Twilio SDK to the stand-in, the default policy."""
    otp = otp_class(
        RedisOtpStore.from_url(redis_url, key_prefix=key_prefix),
        TwilioSmsSender(TWILIO_SID, TWILIO_TOKEN, "+14155550100", base_url=twilio.url),
        clinic,
        OtpPolicy(),
        pepper=PEPPER,
        clinic_name=CLINIC_NAME,
    )
    return Services(clinic=clinic, otp=otp)


Action = Literal["cancel", "reschedule"]


@dataclass(frozen=True, slots=True)
class Caller:
    """One patient on file and what their call will do."""

    index: int
    session_id: str
    full_name: str
    date_of_birth: date
    phone: str  # E.164, as stored
    spoken_phone: str  # as the caller says it
    patient_id: str
    appointment_id: str
    slot_id: str
    action: Action
    shared_slot_id: str | None = None  # reschedule: the contested slot tried first
    spare_slot_id: str | None = None  # reschedule: the caller's own fallback


@dataclass(frozen=True, slots=True)
class ToolStep:
    """One tool call as the session ran it."""

    tool: str
    output: str
    is_error: bool
    latency: float  # seconds from the model's function call item to the tool's output item


@dataclass
class CallResult:
    caller: Caller
    steps: list[ToolStep] = field(default_factory=list)
    grants: dict[str, int] = field(default_factory=dict)  # patient id -> level, at hang-up
    won_shared_slot: bool = False
    seconds: float = 0.0

    def outputs(self, tool: str) -> list[tuple[str, bool]]:
        return [(s.output, s.is_error) for s in self.steps if s.tool == tool]


def _letters(n: int) -> str:
    """0 -> "a", 25 -> "z", 26 -> "ba": a name part made of letters only."""
    out = ""
    while True:
        n, digit = divmod(n, 26)
        out = _LETTERS[digit] + out
        if n == 0:
            return out


def phone_for(index: int, exchange: int = 552) -> tuple[str, str]:
    """(E.164, spoken) for caller `index`: +1 212 552 0000, 0001, ... (valid NANP numbers)."""
    spoken = f"212 {exchange} {index:04d}"
    return normalize_phone(spoken), spoken


async def populate(
    clinic: ClinicRecords, n: int, *, shared_slots: int, session_prefix: str = "load"
) -> list[Caller]:
    """Add `n` patients, each with a distinct phone, date of birth and one booked appointment.

    Even-numbered callers cancel; odd-numbered callers reschedule, racing in groups for
    `shared_slots` shared open slots (each also gets a spare slot of their own).
    """
    if n < 2:
        raise ValueError("need at least 2 callers (each tries a neighbour's appointment)")
    start = datetime.combine(clinic.now().date() + timedelta(days=2), datetime.min.time())
    shared = [
        await clinic.add_slot(SHARED_PROVIDER, start + timedelta(hours=h))
        for h in range(shared_slots)
    ]
    callers: list[Caller] = []
    for i in range(n):
        phone, spoken = phone_for(i)
        name = f"Caller {_letters(i).capitalize()} Loadtest"
        dob = date(1940, 1, 1) + timedelta(days=97 * i)  # distinct per caller
        patient_id = await clinic.add_patient(name, dob, phone)
        when = start + timedelta(minutes=15 * i)
        slot_id = await clinic.add_slot(HOME_PROVIDER, when)
        appointment_id = await clinic.book(patient_id, slot_id)
        action: Action = "cancel" if i % 2 == 0 else "reschedule"
        shared_slot = spare_slot = None
        if action == "reschedule":
            spare_slot = await clinic.add_slot(SPARE_PROVIDER, when)
            if shared:
                shared_slot = shared[(i // 2) % len(shared)]
        callers.append(
            Caller(
                index=i,
                session_id=f"{session_prefix}-{i:04d}",
                full_name=name,
                date_of_birth=dob,
                phone=phone,
                spoken_phone=spoken,
                patient_id=patient_id,
                appointment_id=appointment_id,
                slot_id=slot_id,
                action=action,
                shared_slot_id=shared_slot,
                spare_slot_id=spare_slot,
            )
        )
    return callers


async def code_texted_to(standin: TwilioStandIn, phone: str, *, wait: float = 60.0) -> str:
    """The code in the one message the Twilio stand-in received for `phone`.

    The text goes out in the background after `request_otp` answers (as on a real line, where
    it arrives a moment later), so this waits for it - up to `wait` seconds, for a loaded
    machine running hundreds of calls - the way a caller waits for their phone to buzz.
    """
    deadline = time.monotonic() + wait
    while True:
        bodies = [c.form.get("Body", "") for c in standin.requests if c.form.get("To") == phone]
        if bodies or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.01)
    if len(bodies) != 1:
        raise AssertionError(f"expected one text to caller's phone, got {len(bodies)}")
    match = re.search(r"\b(\d{6})\b", bodies[0])
    if match is None:
        raise AssertionError("no 6-digit code in the text")
    return match.group(1)


def _tool_step(result: RunResult[Any], tool: str, latencies: dict[str, float]) -> ToolStep:
    call_ids = {
        e.item.call_id for e in result.events if e.type == "function_call" and e.item.name == tool
    }
    for event in result.events:
        if event.type == "function_call_output" and event.item.call_id in call_ids:
            item = event.item
            return ToolStep(tool, item.output, item.is_error, latencies.get(item.call_id, 0.0))
    raise AssertionError(f"{tool} was not called")


async def run_call(
    services: Services,
    caller: Caller,
    neighbour: Caller,
    code_for: Callable[[str], Awaitable[str]],
) -> CallResult:
    """Play one call to the end; returns every tool output (asserting nothing about them)."""
    record = CallResult(caller)
    scripted = ScriptedLLM()
    state = CallState(services=services, session_id=caller.session_id)
    latencies: dict[str, float] = {}

    def on_tools(event: FunctionToolsExecutedEvent) -> None:
        for call, output in event.zipped():
            latencies[output.call_id] = output.created_at - call.created_at

    started = time.perf_counter()
    async with AgentSession[CallState](llm=scripted, userdata=state) as session:
        session.on("function_tools_executed", on_tools)
        await session.start(ClinicAgent(clinic_name=CLINIC_NAME))

        async def step(said: str, tool: str, **arguments: object) -> ToolStep:
            scripted.call(tool, **arguments)
            result: RunResult[Any] = await session.run(user_input=said)
            done = _tool_step(result, tool, latencies)
            record.steps.append(done)
            return done

        dob = caller.date_of_birth.isoformat()
        await step(
            f"I'm {caller.full_name}, born {dob}",
            "verify_identity",
            full_name=caller.full_name,
            date_of_birth=dob,
        )
        await step(
            f"Text me at {caller.spoken_phone}", "request_otp", patient_phone=caller.spoken_phone
        )
        code = await code_for(caller.phone)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        await step(f"It's {wrong}", "verify_otp", code=wrong)
        await step(f"Sorry, it's {code}", "verify_otp", code=code)
        await step(
            "Cancel appointment " + neighbour.appointment_id,
            "cancel_appointment",
            appointment_id=neighbour.appointment_id,
        )
        if caller.action == "cancel":
            await step(
                "Cancel my appointment", "cancel_appointment", appointment_id=caller.appointment_id
            )
        else:
            targets = [s for s in (caller.shared_slot_id, caller.spare_slot_id) if s]
            for n, slot_id in enumerate(targets):
                moved = await step(
                    "Move it please",
                    "reschedule_appointment",
                    appointment_id=caller.appointment_id,
                    new_slot_id=slot_id,
                )
                if not moved.is_error:
                    record.won_shared_slot = n == 0 and slot_id == caller.shared_slot_id
                    break
        record.grants = {pid: int(state.level_for(pid)) for pid in state.grants}
    record.seconds = time.perf_counter() - started
    return record


async def run_calls(
    services: Services, callers: Sequence[Caller], standin: TwilioStandIn
) -> list[CallResult]:
    """All calls at once; each tries the appointment of the next caller (wrapping around)."""
    return await asyncio.gather(
        *(
            run_call(
                services,
                caller,
                callers[(i + 1) % len(callers)],
                lambda phone: code_texted_to(standin, phone),
            )
            for i, caller in enumerate(callers)
        )
    )
