"""VerifyPhoneTask awaited from a host agent's tool, through a real AgentSession with the
scripted LLM and a real OtpService on SQLite: the host gets the proven phone back, or a
PhoneNotVerified error when the caller stops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from livekit.agents import Agent, AgentSession, RunContext, RunResult, function_tool

from tests.support.constants import ON_FILE, PEPPER
from tests.support.scripted_llm import ScriptedLLM
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpService, SqliteOtpStore, mask_phone
from verification.livekit import VerifyPhoneTask
from verification.livekit.task import ASK_FOR_NUMBER


def host_tool_outputs(result: RunResult[None]) -> list[tuple[str, bool]]:
    """The host's verify_phone answer: its call was made in an earlier turn than its output."""
    return [
        (e.item.output, e.item.is_error)
        for e in result.events
        if e.type == "function_call_output" and e.item.name == "verify_phone"
    ]


def current_agent(session: AgentSession[None]) -> Agent:
    return session.current_agent


class HostAgent(Agent):
    def __init__(self, otp: OtpService) -> None:
        super().__init__(instructions="Help the caller; verify their phone when needed.")
        self.otp = otp
        self.task: VerifyPhoneTask | None = None

    @function_tool
    async def verify_phone(self, context: RunContext[Any]) -> str:
        """Prove the caller holds a phone."""
        self.task = VerifyPhoneTask(self.otp, session_id="task-call-1")
        result = await self.task
        return f"Proven: the number {mask_phone(result.phone_e164)}."


@pytest.fixture
async def otp(tmp_path: Path) -> AsyncIterator[tuple[OtpService, RecordingSmsSender]]:
    sms = RecordingSmsSender()
    store = SqliteOtpStore(tmp_path / "otp.sqlite3")
    service = OtpService(store, sms, StaticDirectory({ON_FILE}), pepper=PEPPER)
    yield service, sms
    await service.aclose()


async def test_the_host_gets_the_proven_phone_back(
    otp: tuple[OtpService, RecordingSmsSender],
) -> None:
    service, sms = otp
    scripted = ScriptedLLM()
    host = HostAgent(service)
    async with AgentSession[None](llm=scripted) as session:
        await session.start(host)
        scripted.call("verify_phone").say("Which number should I text a code to?")
        await session.run(user_input="I'd like to verify my phone")
        assert current_agent(session) is host.task
        assert ASK_FOR_NUMBER in scripted.seen_text()

        scripted.call("request_otp", patient_phone="415 555 0123")
        await session.run(user_input="415 555 0123 please")
        await service.drain()
        code = sms.last_code()

        scripted.call("verify_otp", code=code)
        result: RunResult[None] = await session.run(user_input=f"it's {code}")

        assert current_agent(session) is host
        [(output, is_error)] = host_tool_outputs(result)
        assert (output, is_error) == ("Proven: the number ending in 0123.", False)
        assert host.task is not None and host.task.otp_tools.verified_phone == ON_FILE


async def test_a_caller_who_stops_leaves_the_host_with_an_error(
    otp: tuple[OtpService, RecordingSmsSender],
) -> None:
    service, sms = otp
    scripted = ScriptedLLM()
    host = HostAgent(service)
    async with AgentSession[None](llm=scripted) as session:
        await session.start(host)
        scripted.call("verify_phone").say("Which number?")
        await session.run(user_input="verify me")

        scripted.call("decline_phone_verification", reason="no phone at hand")
        result: RunResult[None] = await session.run(user_input="I don't have my phone")

        assert current_agent(session) is host
        [(output, is_error)] = host_tool_outputs(result)
        assert is_error and output == "The caller's phone was not verified: no phone at hand"
        assert sms.sent == []
