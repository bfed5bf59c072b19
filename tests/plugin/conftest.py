"""The plugin on a minimal agent: a real AgentSession in text mode, the scripted LLM, a real
OtpService on SQLite (or Redis), and a host hook that records what it was asked to grant."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from livekit.agents import Agent, AgentSession, RunContext, RunResult

from tests.support.leaks import assert_no_leak
from tests.support.scripted_llm import ScriptedLLM
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpPolicy, OtpService, OtpStore, SqliteOtpStore
from verification.livekit import OtpToolset

PEPPER = b"plugin-pepper-0123456789abcdef"
ON_FILE = "+14155550123"
ALSO_ON_FILE = "+14155550188"
NOT_ON_FILE = "+14155550199"
CALLER_ID = "+14155550123"


@dataclass
class Host:
    """What the host's `on_verified` hook saw, and what it answers or raises."""

    calls: list[tuple[RunContext[Any] | None, str]] = field(default_factory=list)
    answer: str | None = "Account 1 unlocked."
    fail_with: Exception | None = None

    async def on_verified(self, context: RunContext[Any] | None, phone_e164: str) -> str | None:
        self.calls.append((context, phone_e164))
        if self.fail_with is not None:
            raise self.fail_with
        return self.answer


@dataclass
class PluginCall:
    session: AgentSession[None]
    llm: ScriptedLLM
    toolset: OtpToolset
    otp: OtpService
    sms: RecordingSmsSender
    host: Host

    async def say(self, text: str, tool: str, **arguments: object) -> tuple[str, bool]:
        """The caller says `text`; the model answers with one call to `tool`."""
        self.llm.call(tool, **arguments)
        result: RunResult[None] = await self.session.run(user_input=text)
        await self.otp.drain()
        return tool_output(result, tool)

    async def code(self) -> str:
        await self.otp.drain()
        return self.sms.last_code()


def tool_output(result: RunResult[None], name: str) -> tuple[str, bool]:
    """(output, is_error) of the first call to tool `name` in this turn."""
    outputs = tool_outputs(result, name)
    assert outputs, f"{name} was not called"
    return outputs[0]


def tool_outputs(result: RunResult[None], name: str) -> list[tuple[str, bool]]:
    call_ids = {
        e.item.call_id for e in result.events if e.type == "function_call" and e.item.name == name
    }
    return [
        (e.item.output, e.item.is_error)
        for e in result.events
        if e.type == "function_call_output" and e.item.call_id in call_ids
    ]


@asynccontextmanager
async def open_plugin_call(
    store: OtpStore,
    *,
    policy: OtpPolicy | None = None,
    caller_phone: str | None = None,
    host: Host | None = None,
    make_toolset: Callable[[OtpService, Host], OtpToolset] | None = None,
    session_id: str = "plugin-call-1",
) -> AsyncIterator[PluginCall]:
    sms = RecordingSmsSender()
    directory = StaticDirectory({ON_FILE, ALSO_ON_FILE})
    otp = OtpService(store, sms, directory, policy or OtpPolicy(), pepper=PEPPER)
    host = host or Host()
    toolset = (
        make_toolset(otp, host)
        if make_toolset is not None
        else OtpToolset(
            otp, session_id=session_id, caller_phone=caller_phone, on_verified=host.on_verified
        )
    )
    scripted = ScriptedLLM()
    agent = Agent(instructions="Verify the caller's phone by text code.", tools=[toolset])
    async with AgentSession[None](llm=scripted) as session:
        await session.start(agent)
        yield PluginCall(session, scripted, toolset, otp, sms, host)
        await otp.drain()
    await otp.aclose()


def generated_codes(sms: RecordingSmsSender) -> set[str]:
    return {body.split("code is ")[1][:6] for _, body in sms.sent}


def assert_no_code_in_conversation(call: PluginCall) -> None:
    """No tool output and no assistant or system message holds a generated code (the caller's
    own words, and the tool arguments made from them, are the caller's)."""
    codes = generated_codes(call.sms)
    contexts = [call.session.history, call.session.current_agent.chat_ctx]
    for chat_ctx in contexts:
        for item in chat_ctx.items:
            if item.type == "function_call_output":
                text = item.output
            elif item.type == "message" and item.role != "user":
                text = item.text_content or ""
            else:
                continue
            for code in codes:
                assert code not in text, f"code in {item.type}: {text}"


@pytest.fixture
async def call(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[PluginCall]:
    """One scripted call on SQLite; afterwards no generated code is in the conversation, the
    project's logs or the metrics, and no full phone number is in the logs."""
    caplog.set_level(logging.DEBUG)
    async with open_plugin_call(SqliteOtpStore(tmp_path / "otp.sqlite3")) as opened:
        yield opened
        assert_no_code_in_conversation(opened)
        codes = generated_codes(opened.sms)
    assert_no_leak(caplog.records, codes, {ON_FILE, ALSO_ON_FILE, NOT_ON_FILE}, where="plugin")
