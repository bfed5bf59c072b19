"""The example agent (examples/account_balance.py) through a real AgentSession with the
scripted LLM: no balance before the phone is proven, the right balance after, and what the
model writes goes through the plugin's speech hook (no code, no full number, no tool call
said; the support line is)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from livekit.agents import AgentServer, AgentSession, RunResult

from examples.account_balance import SUPPORT_LINE, AccountDirectory, BalanceAgent, text_console
from tests.support.constants import PEPPER
from tests.support.conversation import tool_output
from tests.support.scripted_llm import ScriptedLLM
from tests.support.sms import RecordingSmsSender
from verification import OtpService, SqliteOtpStore


@pytest.fixture
async def otp(tmp_path: Path) -> AsyncIterator[tuple[OtpService, RecordingSmsSender]]:
    sms = RecordingSmsSender()
    service = OtpService(
        SqliteOtpStore(tmp_path / "otp.sqlite3"), sms, AccountDirectory(), pepper=PEPPER
    )
    yield service, sms
    await service.aclose()


async def turn(
    session: AgentSession[None], scripted: ScriptedLLM, text: str, tool: str, **args: object
) -> tuple[str, bool]:
    scripted.call(tool, **args)
    result: RunResult[None] = await session.run(user_input=text)
    return tool_output(result, tool)


async def test_the_balance_is_read_only_for_the_proven_phone(
    otp: tuple[OtpService, RecordingSmsSender],
) -> None:
    service, sms = otp
    scripted = ScriptedLLM()
    agent = BalanceAgent(service, session_id="example-1")
    async with AgentSession[None](llm=scripted) as session:
        await session.start(agent)

        output, is_error = await turn(session, scripted, "What's my balance?", "read_balance")
        assert is_error and "isn't verified" in output

        await turn(
            session, scripted, "Text 415 555 0188", "request_otp", patient_phone="4155550188"
        )
        await service.drain()
        code = sms.last_code()
        output, _ = await turn(session, scripted, f"It's {code}", "verify_otp", code=code)
        assert "The account of Grace is unlocked" in output

        output, is_error = await turn(session, scripted, "And the balance?", "read_balance")
        assert (output, is_error) == ("Grace's balance is $87.10.", False)
        assert agent.otp_tools.verified_phone == "+14155550188"
        assert all(code not in (i.text_content or "") for i in session.history.items
                   if i.type == "message" and i.role == "assistant")  # fmt: skip


async def test_a_number_with_no_account_unlocks_nothing(
    otp: tuple[OtpService, RecordingSmsSender],
) -> None:
    service, sms = otp
    scripted = ScriptedLLM()
    agent = BalanceAgent(service, session_id="example-2")
    async with AgentSession[None](llm=scripted) as session:
        await session.start(agent)
        output, _ = await turn(
            session, scripted, "Text 415 555 0199", "request_otp", patient_phone="415 555 0199"
        )
        assert output.startswith("I've texted")  # the same answer as for an account holder
        await service.drain()
        assert sms.sent == []
        output, _ = await turn(session, scripted, "123456", "verify_otp", code="123456")
        assert output == "That code isn't right. You have 2 more tries."
        output, is_error = await turn(session, scripted, "Balance?", "read_balance")
        assert is_error


async def test_the_text_console_greets_and_answers_each_typed_line(
    otp: tuple[OtpService, RecordingSmsSender],
) -> None:
    service, sms = otp
    scripted = ScriptedLLM()
    scripted.call("request_otp", patient_phone="415 555 0123")
    out = io.StringIO()

    await text_console(scripted, service, io.StringIO("Text me at 415 555 0123\n"), out)

    await service.drain()
    printed = out.getvalue()
    assert "agent > Hi! I can tell you your balance" in printed
    assert "you > " in printed
    assert (
        "agent > (relaying) I've texted a 6-digit code to the number ending in 0123. "
        "It expires in 5 minutes." in printed
    )  # the masked number and the code's length and lifetime pass the speech hook as they are
    assert [to for to, _ in sms.sent] == ["+14155550123"]


async def test_the_example_never_says_a_tool_call_code_or_number_but_its_support_line(
    otp: tuple[OtpService, RecordingSmsSender],
) -> None:
    service, sms = otp
    scripted = ScriptedLLM()
    agent = BalanceAgent(service, session_id="example-3")
    async with AgentSession[None](llm=scripted) as session:
        await session.start(agent)
        scripted.write_call_as_text("read_balance")
        await session.run(user_input="What's my balance?")
        await turn(
            session, scripted, "Text 415 555 0188", "request_otp", patient_phone="4155550188"
        )
        await service.drain()
        code = sms.last_code()
        scripted.say(f"Your code is {code}, sent to 415 555 0188. Or call {SUPPORT_LINE}.")
        await session.run(user_input="What was the code again?")
        said = " ".join(
            item.text_content or ""
            for item in session.history.items
            if item.type == "message" and item.role == "assistant"
        )
    assert "read_balance" not in said and "{" not in said
    assert code not in said and "555 0188" not in said
    assert SUPPORT_LINE in said


def test_livekits_cli_finds_the_examples_server() -> None:
    """`python -m livekit.agents start examples/account_balance.py` (and `lk agent dev`)
    look for a module-level AgentServer."""
    from livekit.agents.cli.discover import get_import_data

    import examples.account_balance

    found = get_import_data(path=Path(examples.account_balance.__file__))
    assert found.import_string == "examples.account_balance:server"
    assert isinstance(examples.account_balance.server, AgentServer)
