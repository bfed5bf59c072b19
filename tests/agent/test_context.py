"""What a ClinicAgent call costs besides the model.

* Tool schemas built once: the model is sent byte for byte the tools JSON LiveKit would build
  on every request, and the tools still validate their arguments.
* A bounded context (`agent/context.py`): the instructions and recent turns whole, old turns
  dropped whole, and a note from code in their place that never holds a code, a phone number
  or record text.
* Quick starts: the command line loads LiveKit only for a command that runs a call, and
  `warm_up` leaves nothing for a call's event loop to import.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from livekit.agents import AgentSession, RunResult, llm
from livekit.agents.llm.chat_context import DYNAMIC_INSTRUCTIONS_MESSAGE_ID
from livekit.agents.llm.tool_context import find_function_tools

from agent import CallOptions, CallState, ClinicAgent, Services
from agent.context import COMPACT_EVERY, KEEP_TURNS, bounded_context, earlier_turns_note
from clinic import ClinicDB
from tests.support.clinic_calls import Call, say
from tests.support.constants import CODE, JANE_PHONE, PEPPER, PHONE
from tests.support.openai_standin import OpenAIStandin
from tests.support.sms import RecordingSmsSender
from verification import OtpService, SqliteOtpStore, VerificationLevel
from verification.livekit import OtpToolset

RECORD_TEXT = ("Jane Doe", "Dr. Patel", "1985", "appt-1")


# -- tool schemas, built once ---------------------------------------------------------------


def livekits_own_tools(agent: ClinicAgent, toolset: OtpToolset) -> list[llm.Tool]:
    """The clinic call's tools as LiveKit builds them from the methods, schema per request."""
    methods = inspect.getmembers(ClinicAgent, lambda m: isinstance(m, llm.FunctionTool))
    return [tool.__get__(agent, ClinicAgent) for _, tool in methods] + list(
        find_function_tools(toolset)
    )


def by_name(schemas: list[dict[str, Any]]) -> dict[str, str]:
    return {schema["function"]["name"]: json.dumps(schema) for schema in schemas}


async def test_the_model_is_sent_the_tools_json_livekit_would_build(
    clinic: ClinicDB, tmp_path: Path
) -> None:
    """On the wire: the real OpenAI plugin's request from a ClinicAgent call, to a local
    OpenAI-compatible stand-in, holds exactly the tools JSON LiveKit builds from the methods."""
    from livekit.plugins import openai

    otp = OtpService(
        SqliteOtpStore(tmp_path / "otp.sqlite3"), RecordingSmsSender(), clinic, pepper=PEPPER
    )
    standin = OpenAIStandin()
    await standin.start()
    try:
        model = openai.LLM(model="standin", base_url=standin.base_url, api_key="unused")
        state = CallState(services=Services(clinic=clinic, otp=otp), session_id="wire")
        agent = ClinicAgent(clinic_name="Bayview Clinic")
        async with AgentSession[CallState](llm=model, userdata=state) as session:
            await session.start(agent)
            await session.run(user_input="Hello")
            assert agent.otp_tools is not None
            own = livekits_own_tools(agent, agent.otp_tools)
    finally:
        await standin.stop()
        await otp.aclose()
    [request] = standin.requests
    expected = llm.ToolContext(own).parse_function_tools("openai", strict=True)
    assert by_name(request["tools"]) == by_name(expected)
    assert len(request["tools"]) == len(own) == 10


async def test_the_agents_tools_carry_schemas_built_once(call: Call) -> None:
    await say(call, "Any open times?", "find_open_slots")

    offered = call.llm.tools_seen[-1]
    assert len(offered) == 10
    # a raw tool is sent as the schema it holds; a FunctionTool is rebuilt on every request
    assert all(isinstance(tool, llm.RawFunctionTool) for tool in offered)
    assert call.agent.otp_tools is not None
    own = livekits_own_tools(call.agent, call.agent.otp_tools)
    assert by_name(llm.ToolContext(offered).parse_function_tools("openai")) == by_name(
        llm.ToolContext(own).parse_function_tools("openai")
    )


@pytest.mark.parametrize(
    "arguments",
    ['{"appointment_id": 7}', "{}", '{"appointment_id": ["a", "b"]}', "not json"],
)
async def test_the_tools_still_validate_their_arguments(call: Call, arguments: str) -> None:
    appointment = (await call.clinic.appointments_for(call.jane.id))[0]
    call.llm.call_raw("cancel_appointment", arguments)
    result: RunResult[None] = await call.session.run(user_input="Cancel it")

    output = next(e.item for e in result.events if e.type == "function_call_output")
    assert output.is_error
    assert output.output.startswith("Error parsing arguments for `cancel_appointment`")
    assert (await call.clinic.get_appointment(appointment.id)).status == "booked"


# -- the bounded context ----------------------------------------------------------------------


def instructions() -> llm.ChatMessage:
    return llm.ChatMessage(
        id="lk.agent_task.instructions", role="system", content=["You answer the phone."]
    )


def add_turn(ctx: llm.ChatContext, n: int) -> None:
    """One caller turn full of what must not outlive it: a code, a phone, record text."""
    ctx.add_message(role="user", content=f"turn {n}: my code is {CODE}, phone {JANE_PHONE}")
    call = llm.FunctionCall(
        call_id=f"call-{n}", name="list_appointments", arguments=f'{{"phone": "{PHONE}"}}'
    )
    ctx.items.append(call)
    ctx.items.append(
        llm.FunctionCallOutput(
            call_id=f"call-{n}",
            name="list_appointments",
            output="appt-1: Jane Doe, Dr. Patel, April 12 1985",
            is_error=False,
        )
    )
    ctx.add_message(role="assistant", content=f"Reply {n}: Dr. Patel on Tuesday.")


def call_of(turns: int) -> llm.ChatContext:
    ctx = llm.ChatContext([instructions()])
    ctx.add_message(role="assistant", content="Thank you for calling.")
    for n in range(1, turns + 1):
        add_turn(ctx, n)
    return ctx


def text_of(item: llm.ChatItem) -> str:
    assert item.type == "message"
    return item.text_content or ""


def caller_turns(ctx: llm.ChatContext) -> list[str]:
    return [i.text_content or "" for i in ctx.items if i.type == "message" and i.role == "user"]


@pytest.fixture
def state(tmp_path: Path) -> CallState:
    """A call's state: verified as two patients, Jane by code, and a code pending."""
    clinic = ClinicDB(tmp_path / "clinic.sqlite3")
    otp = OtpService(
        SqliteOtpStore(tmp_path / "otp.sqlite3"), RecordingSmsSender(), clinic, pepper=PEPPER
    )
    call = CallState(services=Services(clinic=clinic, otp=otp), session_id="state")
    call.grant(["jane"], VerificationLevel.LEVEL_2)
    call.grant(["john"], VerificationLevel.LEVEL_1)
    call.pending_phone_source = lambda: PHONE
    return call


def test_a_short_call_is_sent_whole() -> None:
    ctx = call_of(KEEP_TURNS + COMPACT_EVERY - 1)
    assert bounded_context(ctx) is ctx


@pytest.mark.parametrize("turns", [KEEP_TURNS + COMPACT_EVERY, 20, 40, 41, 42, 43, 200])
def test_a_long_call_keeps_the_instructions_a_note_and_the_recent_turns_whole(
    turns: int, state: CallState
) -> None:
    ctx = call_of(turns)
    before = list(ctx.items)

    sent = bounded_context(ctx, state)

    assert ctx.items == before  # the session's copy is not touched
    assert sent.items[0] is ctx.items[0]  # the instructions, first and whole
    note = sent.items[1]
    assert note.type == "message" and note.role == "system"
    assert note.id == DYNAMIC_INSTRUCTIONS_MESSAGE_ID
    recent = sent.items[2:]
    assert recent == ctx.items[-len(recent) :]  # the most recent turns, whole and in order
    kept = caller_turns(sent)
    assert KEEP_TURNS <= len(kept) < KEEP_TURNS + COMPACT_EVERY
    assert kept[-1] == caller_turns(ctx)[-1]
    dropped = turns - len(kept)
    assert f"{dropped} turns are not shown" in (note.text_content or "")
    # every kept tool call has its output, and no output lost its call
    calls = {i.call_id for i in recent if i.type == "function_call"}
    outputs = {i.call_id for i in recent if i.type == "function_call_output"}
    assert calls == outputs and len(calls) == len(kept)


def test_the_note_holds_no_code_phone_or_record_text(state: CallState) -> None:
    sent = bounded_context(call_of(40), state)
    note = sent.items[1]
    assert note.type == "message"
    text = note.text_content or ""

    for secret in (CODE, PHONE, JANE_PHONE, "0123", *RECORD_TEXT):
        assert secret not in text
    assert re.findall(r"\d+", text) == ["32"]  # only the count of turns not shown
    # what it says comes from CallState
    assert "cancel or reschedule for one patient record" in text
    assert "hear and book for one patient record more" in text
    assert "A code has been sent and not yet checked" in text


def test_the_note_says_what_the_caller_may_do(state: CallState) -> None:
    state.grants.clear()
    state.pending_phone_source = None
    assert earlier_turns_note(8, state).endswith("So far the caller is not verified.")
    state.grant(["jane", "john"], VerificationLevel.LEVEL_1)
    assert "hear and book appointments for 2 patient records; cancelling" in (
        earlier_turns_note(8, state)
    )
    assert "turns are not shown" in earlier_turns_note(8, None)


def test_between_two_cuts_a_request_begins_as_the_one_before() -> None:
    """Prompt caches (OpenAI's, llama.cpp's) serve a request's beginning only if it is the
    same as the last one's: old turns go COMPACT_EVERY at a time."""
    ctx = call_of(KEEP_TURNS + COMPACT_EVERY)
    requests = []
    for turn in range(COMPACT_EVERY + 1):
        requests.append(bounded_context(ctx).items)
        add_turn(ctx, 100 + turn)
    first = requests[0]
    for later in requests[1:COMPACT_EVERY]:
        assert later[0] is first[0] and text_of(later[1]) == text_of(first[1])
        assert later[2 : len(first)] == first[2:]  # the same turns, then the new ones
    after_the_next_cut = requests[COMPACT_EVERY]
    assert after_the_next_cut[2] is not first[2]


def test_the_note_joins_livekits_per_call_instructions() -> None:
    ctx = call_of(20)
    dynamic = llm.ChatMessage(
        id=DYNAMIC_INSTRUCTIONS_MESSAGE_ID, role="system", content=["Today is Monday."]
    )
    ctx.items.insert(1, dynamic)

    sent = bounded_context(ctx).items

    assert [i.id for i in sent[:2]] == ["lk.agent_task.instructions", dynamic.id]
    assert sent[1].type == "message" and sent[1].content[0] == "Today is Monday."
    assert "turns are not shown" in str(sent[1].content[1])
    assert sum(i.id == dynamic.id for i in sent) == 1


def test_a_late_output_of_a_dropped_call_is_left_out() -> None:
    ctx = call_of(20)
    ctx.items.append(
        llm.FunctionCallOutput(
            call_id="call-1", name="list_appointments", output="late", is_error=False
        )
    )
    sent = bounded_context(ctx).items
    assert all(i.type != "function_call_output" or i.call_id != "call-1" for i in sent)


def test_the_window_must_hold_a_turn() -> None:
    with pytest.raises(ValueError):
        bounded_context(call_of(3), keep_turns=0)


@pytest.mark.parametrize("call_options", [CallOptions()])
async def test_a_call_sends_the_bounded_context(call: Call) -> None:
    """Through the real session: ClinicAgent's llm_node hands the model the bounded context."""
    for n in range(KEEP_TURNS + COMPACT_EVERY):
        await say(call, f"Any open times, {n}?", "find_open_slots")
    sent = call.llm.requests[-1]
    assert len(caller_turns(sent)) == KEEP_TURNS
    first = sent.items[0]
    assert first.type == "message" and first.role == "system"
    assert call.agent.base_instructions in (first.text_content or "")
    assert sent.items[1].id == DYNAMIC_INSTRUCTIONS_MESSAGE_ID


# -- quick starts -----------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> str:
    """`code` in a fresh interpreter (this test process has imported everything already)."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_command_line_loads_livekit_only_to_run_a_call() -> None:
    """`python -m agent --help` (and the settings, and the start-up checks) answer without
    importing LiveKit's agent framework and the records, seconds on a small machine."""
    loaded = run_python(
        "import sys, contextlib, io\n"
        "from agent.__main__ import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help'])\n"
        "print(sorted(m for m in sys.modules if m.startswith(('livekit.agents', 'clinic'))))"
    )
    assert loaded == "[]"


FIRST_CALL = """
import asyncio, sys, tempfile
from pathlib import Path
from livekit.agents import AgentSession
from livekit.plugins import openai
from agent import CallState, ClinicAgent, Services
from agent.instructions import _phrases, load_prompt
from agent.wiring import warm_up
from clinic import ClinicDB
from tests.support.openai_standin import OpenAIStandin
from tests.support.sms import RecordingSmsSender
from verification import OtpService, SqliteOtpStore

async def call() -> list[str]:
    rules = {"text me": ("request_otp", {"patient_phone": "415 555 0123"})}
    model = OpenAIStandin(tool_rules=rules)
    await model.start()
    tmp = Path(tempfile.mkdtemp())
    clinic = ClinicDB(tmp / "clinic.sqlite3")
    await clinic.load_demo()
    otp = OtpService(
        SqliteOtpStore(tmp / "otp.sqlite3"), RecordingSmsSender(), clinic,
        pepper=b"first-call-pepper-0123456789",
    )
    state = CallState(services=Services(clinic=clinic, otp=otp), session_id="first-call")
    llm = openai.LLM(model="standin", base_url=model.base_url, api_key="unused")
    before = set(sys.modules)
    read = load_prompt.cache_info().misses + _phrases.cache_info().misses
    async with AgentSession[CallState](llm=llm, userdata=state) as session:
        await session.start(ClinicAgent(clinic_name="Bayview Clinic"))
        await session.run(user_input="Please text me at 415 555 0123")
        await session.run(user_input="Hola, quiero cancelar mi cita")
    imported = sorted(set(sys.modules) - before)
    if load_prompt.cache_info().misses + _phrases.cache_info().misses != read:
        imported.append("a prompt file")
    await otp.aclose()
    await clinic.aclose()
    await model.stop()
    return imported

warm_up("US")
print(asyncio.run(call()))
"""


def test_after_warm_up_a_call_imports_nothing_on_its_event_loop() -> None:
    """Whatever a call's first moments load (the OpenAI SDK's chat resources, the region's
    phone number metadata, LiveKit's toolset support, every language's prompt files: the
    greeting's and a switch to Spanish's), `warm_up` loads first, in `prewarm`,
    off the call's event loop: an import there stalls the greeting's audio and the first
    reply (each module is compiled from source where no bytecode is cached)."""
    assert run_python(FIRST_CALL) == "[]"
