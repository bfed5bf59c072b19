"""One scripted clinic call: the real AgentSession and ClinicAgent, the scripted model, real
records, and the helpers evals use to play a caller's turns."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

from livekit.agents import AgentSession, RunResult
from livekit.agents.testing import fake_job_context

from agent import CallOptions, CallState, ClinicAgent, Services
from clinic import ClinicDB, Patient, Unavailable, demo
from tests.support.constants import JANE_PHONE
from tests.support.conversation import assert_no_code_in, tool_output
from tests.support.leaks import assert_not_said
from tests.support.plugin_calls import phone_room, press
from tests.support.scripted_llm import ScriptedLLM
from tests.support.sms import RecordingSmsSender
from verification import OtpService


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
    quiet_line_seconds: float | None = None,
) -> AsyncIterator[Call]:
    """Start one scripted call on these backends (or on `services`, shared by several
    calls); the session closes on exit. `caller_phone` is the SIP caller ID, if any. The
    quiet-line countdown is off unless `quiet_line_seconds` (a slow test machine is not a
    silent caller)."""
    state = CallState(
        services=services or Services(clinic=clinic, otp=otp, options=options or CallOptions()),
        session_id=session_id,
        caller_phone=caller_phone,
    )
    scripted = ScriptedLLM()
    jane = await clinic.find_patient(demo.JANE.full_name, demo.JANE.date_of_birth)
    john = await clinic.find_patient(demo.JOHN.full_name, demo.JOHN.date_of_birth)
    assert jane is not None and john is not None
    async with AgentSession[CallState](
        llm=scripted, userdata=state, user_away_timeout=quiet_line_seconds
    ) as session:
        agent = ClinicAgent(clinic_name="Bayview Clinic")
        greeting = await session.start(agent, capture_run=True)
        yield Call(session, scripted, state, clinic, sms, jane, john, greeting, agent)


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
    """Rule 7 over the call's history (see `assert_no_code_in`)."""
    assert_no_code_in([call.session.history], codes)


async def say(call: Call, text: str, tool: str, **arguments: object) -> tuple[str, bool]:
    call.llm.call(tool, **arguments)
    result: RunResult[None] = await call.session.run(user_input=text)
    await call.state.services.otp.drain()  # texts go out in the background
    result.expect.next_event().is_function_call(name=tool)
    result.expect.next_event().is_function_call_output()
    result.expect.next_event().is_message(role="assistant")
    return tool_output(result, tool)


async def identify_jane(call: Call) -> None:
    output, is_error = await say(
        call, "I'm Jane Doe, born April 12 1985", "verify_identity",
        full_name="jane doe", date_of_birth="April 12 1985",
    )  # fmt: skip
    assert not is_error and "Verified Jane Doe" in output


async def verify_by_text(call: Call, phone: str = JANE_PHONE) -> str:
    output, is_error = await say(call, f"Text me at {phone}", "request_otp", patient_phone=phone)
    assert not is_error and output.startswith("I've texted a 6-digit code")
    code = call.sms.last_code()
    output, is_error = await say(call, f"It's {code}", "verify_otp", code=code)
    assert not is_error and "You're verified" in output
    return code


async def press_keys(call: Call, keys: str) -> None:
    """Press keypad keys on a SIP call: the agent's OTP toolset hears them from the room."""
    tools = call.agent.otp_tools
    assert tools is not None
    with fake_job_context(room=phone_room()) as job:
        tools.attach_keypad(job.room)
        press(job.room, keys)
        await tools.keypad_idle()
        tools.detach_keypad()


async def until_item(call: Call, wanted: Callable[[Any], bool]) -> None:
    """Wait (at most 30 s) until the call's history holds an item `wanted` accepts."""
    seen = asyncio.Event()

    def check(_: object) -> None:
        if any(wanted(item) for item in call.session.history.items):
            seen.set()

    call.session.on("conversation_item_added", check)
    try:
        check(None)
        await asyncio.wait_for(seen.wait(), timeout=30)
    finally:
        call.session.off("conversation_item_added", check)


async def until_closed(call: Call, timeout: float = 30) -> None:
    """Wait (at most `timeout` seconds) until the call's session has closed, if it has not
    already."""
    if call.session._started:
        closed = asyncio.Event()
        call.session.on("close", lambda _: closed.set())
        await asyncio.wait_for(closed.wait(), timeout=timeout)


class RecordsDown:
    """A call's records, except that each of `failing_methods` raises `Unavailable` (an
    outage) when awaited; everything else reaches the records."""

    def __init__(self, records: ClinicDB, *failing_methods: str) -> None:
        missing = [name for name in failing_methods if not hasattr(records, name)]
        assert not missing, f"the records have no {missing}"
        self._records = records
        self._failing = frozenset(failing_methods)

    def __getattr__(self, name: str) -> object:
        if name in self._failing:
            return _unavailable
        return getattr(self._records, name)


async def _unavailable(*_: object, **__: object) -> NoReturn:
    raise Unavailable()
