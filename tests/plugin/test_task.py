"""VerifyPhoneTask awaited from a host agent's tool, through a real AgentSession with the
scripted LLM and a real OtpService on SQLite: the host gets a `VerifyPhoneResult` back, or a
`PhoneNotVerified` error when the caller declines. Shaped like LiveKit's GetEmailTask and
GetPhoneNumberTask: the same optional session and model arguments, and a known phone (here
from the real GetPhoneNumberTask) passed apart from the caller ID."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from livekit.agents import Agent, AgentSession, RunContext, RunResult, function_tool
from livekit.agents.beta.workflows import GetPhoneNumberTask

from tests.support.constants import ALSO_ON_FILE, ON_FILE, PEPPER
from tests.support.scripted_llm import ScriptedLLM
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpService, SqliteOtpStore, mask_phone
from verification.livekit import PhoneNotVerified, VerifyPhoneResult, VerifyPhoneTask
from verification.livekit.task import ASK_FOR_NUMBER, ASK_FOR_NUMBER_OR_OWN


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
    service = OtpService(store, sms, StaticDirectory({ON_FILE, ALSO_ON_FILE}), pepper=PEPPER)
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


class ChainedHost(Agent):
    """GetPhoneNumberTask collects a number; VerifyPhoneTask proves it, with the caller ID
    passed apart (offered, never assumed)."""

    def __init__(self, otp: OtpService) -> None:
        super().__init__(instructions="Help the caller; verify their phone when needed.")
        self.otp = otp
        self.results: list[VerifyPhoneResult] = []

    @function_tool
    async def verify_phone(self, context: RunContext[Any]) -> str:
        """Prove the caller holds a phone."""
        number = await GetPhoneNumberTask()
        result = await VerifyPhoneTask(
            self.otp,
            known_phone=number.phone_number,
            caller_phone=ON_FILE,
            session_id="task-call-2",
            chat_ctx=self.chat_ctx,
            allow_interruptions=False,
        )
        self.results.append(result)
        return f"Proven: the number {mask_phone(result.phone_e164)}."


async def test_a_number_from_get_phone_number_task_is_proven_without_repeating_it(
    otp: tuple[OtpService, RecordingSmsSender],
) -> None:
    service, sms = otp
    scripted = ScriptedLLM()
    host = ChainedHost(service)
    async with AgentSession[None](llm=scripted) as session:
        await session.start(host)
        scripted.call("verify_phone").say("What's your number?")
        await session.run(user_input="Check my phone please")

        scripted.call("update_phone_number", phone_number="4155550188")
        scripted.say("Shall I text a code to the number ending in 0188?")
        await session.run(user_input="It's 415 555 0188")
        seen = scripted.seen_text()
        assert "ending in 0188" in seen and "known" in seen  # the offer, masked
        assert ASK_FOR_NUMBER_OR_OWN not in seen  # a known number comes first

        scripted.call("request_otp", patient_phone="known")
        await session.run(user_input="Yes, text that one")
        await service.drain()
        code = sms.last_code()

        scripted.call("verify_otp", code=code)
        result: RunResult[None] = await session.run(user_input=f"{code}")

    assert [to for to, _ in sms.sent] == [ALSO_ON_FILE]  # the known number, not the caller ID
    assert host.results == [VerifyPhoneResult(phone_e164=ALSO_ON_FILE)]
    assert host_tool_outputs(result) == [("Proven: the number ending in 0188.", False)]


async def test_the_task_runs_on_the_model_it_is_given(
    otp: tuple[OtpService, RecordingSmsSender],
) -> None:
    """`llm=` (like GetEmailTask's) runs the step on its own model; the session's model
    takes the call back afterwards."""
    service, sms = otp
    scripted, task_model = ScriptedLLM(), ScriptedLLM()
    host = Agent(instructions="Help the caller.")

    @function_tool
    async def verify_phone(context: RunContext[Any]) -> str:
        """Prove the caller holds a phone."""
        task = VerifyPhoneTask(service, session_id="task-call-3", llm=task_model)
        try:
            await task
        except PhoneNotVerified as declined:
            return f"declined: {declined.message}"
        return "proven"

    async with AgentSession[None](llm=scripted, tools=[verify_phone]) as session:
        await session.start(host)
        scripted.call("verify_phone")
        task_model.say("Which number?")
        await session.run(user_input="verify me")
        task_model.call("decline_phone_verification", reason="wants a person")
        result: RunResult[None] = await session.run(user_input="Just get me a person")

    assert ASK_FOR_NUMBER in task_model.seen_text()
    assert ASK_FOR_NUMBER not in scripted.seen_text()
    assert host_tool_outputs(result) == [
        ("declined: The caller's phone was not verified: wants a person", False)
    ]
    assert current_agent(session) is host and sms.sent == []
