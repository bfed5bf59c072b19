"""The host's speech hook (`SpeechHygiene`): a host agent whose `llm_node` runs through it
never says, shows or keeps a code, a full phone number or a tool call written as text, and a
reply that was only tool-call text (what small models write after LiveKit's tool-step cap)
becomes something useful for the caller, never the same fallback twice in a row. Real
AgentSession, scripted LLM, real OtpService on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

from livekit.agents import Agent, AgentSession, ModelSettings, RunResult, function_tool, llm

from tests.support.constants import ALSO_ON_FILE, ON_FILE, PEPPER
from tests.support.scripted_llm import ScriptedLLM
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpService, SqliteOtpStore
from verification.livekit import DEFAULT_QUESTIONS, OtpToolset, SpeechHygiene
from verification.livekit.replies import NOT_HEARD

FRONT_DESK = "+1 415 555 0100"


class HostAgent(Agent):
    """A host's agent: the toolset, and its llm_node through the hook (the documented way)."""

    def __init__(self, otp: OtpService, **speech: Any) -> None:
        self.otp_tools = OtpToolset(otp, session_id="speech-call")
        super().__init__(instructions="Verify the caller's phone.", tools=[self.otp_tools])
        self.speech = SpeechHygiene(allowed_numbers=[FRONT_DESK], **speech)

    def llm_node(
        self, chat_ctx: llm.ChatContext, tools: list[llm.Tool], model_settings: ModelSettings
    ) -> AsyncIterator[llm.ChatChunk | str | Any]:
        return self.speech.llm_node(self, chat_ctx, tools, model_settings)


class Call:
    def __init__(self, session: AgentSession[None], scripted: ScriptedLLM, sms: RecordingSmsSender,
                 otp: OtpService) -> None:  # fmt: skip
        self.session, self.llm, self.sms, self.otp = session, scripted, sms, otp

    async def turn(self, text: str) -> list[str]:
        """The caller says `text`; what the agent said in reply."""
        result: RunResult[None] = await self.session.run(user_input=text)
        await self.otp.drain()
        return [
            e.item.text_content or ""
            for e in result.events
            if e.type == "message" and e.item.role == "assistant"
        ]

    def everything_said(self) -> str:
        return " ".join(
            item.text_content or ""
            for item in self.session.history.items
            if item.type == "message" and item.role == "assistant"
        )


@asynccontextmanager
async def host_call(
    tmp_path: Path, *, max_tool_steps: int = 3, tools: Sequence[llm.Tool] = (), **speech: Any
) -> AsyncIterator[Call]:
    sms = RecordingSmsSender()
    store = SqliteOtpStore(tmp_path / "otp.sqlite3")
    otp = OtpService(store, sms, StaticDirectory({ON_FILE, ALSO_ON_FILE}), pepper=PEPPER)
    scripted = ScriptedLLM()
    async with AgentSession[None](
        llm=scripted, max_tool_steps=max_tool_steps, tools=list(tools)
    ) as session:
        await session.start(HostAgent(otp, **speech))
        yield Call(session, scripted, sms, otp)
    await otp.aclose()


async def test_a_tool_call_written_as_text_is_never_said_or_kept(tmp_path: Path) -> None:
    async with host_call(tmp_path) as call:
        call.llm.write_call_as_text("request_otp", patient_phone="415 555 0123")
        said = await call.turn("Can you text me?")
    assert said and all("{" not in text and "request_otp" not in text for text in said)
    assert said[-1] in DEFAULT_QUESTIONS
    assert "request_otp" not in call.everything_said()


async def test_after_the_tool_step_cap_the_caller_hears_the_last_tools_sentence(
    tmp_path: Path,
) -> None:
    """LiveKit's cap asks for a reply without tools; the small model writes the call as JSON.
    The caller hears the toolset's own sentence for its last answer instead."""
    async with host_call(tmp_path, max_tool_steps=1) as call:
        call.llm.call("request_otp", patient_phone="415 555 0123")
        await call.turn("Text me at 415 555 0123")
        call.llm.call("verify_otp", code="123456").write_call_as_text("verify_otp", code="123456")
        said = await call.turn("I haven't got it yet")

    assert said == [NOT_HEARD.caller]
    assert "verify_otp" not in call.everything_said()


async def test_the_same_fallback_is_never_said_twice_in_a_row(tmp_path: Path) -> None:
    async with host_call(tmp_path) as call:
        fallbacks = []
        for _ in range(5):
            call.llm.write_call_as_text("verify_otp", code="one two three")
            [said] = await call.turn("hello?")
            fallbacks.append(said)
    assert all(a != b for a, b in pairwise(fallbacks))
    assert set(fallbacks) <= set(DEFAULT_QUESTIONS)


async def test_the_host_supplies_its_own_questions(tmp_path: Path) -> None:
    questions: Sequence[str] = ("Shall I text you a code?", "Which number should I use?")
    async with host_call(tmp_path, questions=questions) as call:
        said = []
        for _ in range(3):
            call.llm.write_call_as_text("request_otp", patient_phone="caller")
            said += await call.turn("um")
    assert said == [questions[0], questions[1], questions[0]]


async def test_codes_and_full_numbers_are_hidden_the_hosts_own_number_kept(
    tmp_path: Path,
) -> None:
    async with host_call(tmp_path) as call:
        call.llm.stream("Your code is 40", "2 991. Call us at ", f"{FRONT_DESK}, or I can ",
                        "text 415 555 0188.")  # fmt: skip
        [said] = await call.turn("what's my code?")
    assert "402" not in said and "991" not in said and "555 0188" not in said
    assert FRONT_DESK in said


@function_tool
async def opening_hours() -> str:
    """When the front desk is open."""
    return "Open 9 to 5: say it as it is."


async def test_the_host_gives_the_sentence_for_its_own_tools(tmp_path: Path) -> None:
    def sentence(output: llm.FunctionCallOutput) -> str | None:
        return "We're open nine to five." if output.name == "opening_hours" else None

    async with host_call(tmp_path, tools=[opening_hours], tool_sentence=sentence) as call:
        call.llm.call("opening_hours").write_call_as_text("opening_hours")
        said = await call.turn("When are you open?")
    assert said == ["We're open nine to five."]
