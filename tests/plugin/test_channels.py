"""A code by text or by automated call, in the call's language: `request_otp(patient_phone,
channel=...)` and `OtpToolset.language`, set by the host while the call goes on. Real
AgentSession, scripted LLM, real OtpService on SQLite with recording senders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from livekit.agents import Agent, AgentSession, RunResult

from tests.support.constants import ON_FILE, PEPPER
from tests.support.conversation import tool_output
from tests.support.plugin_calls import RecordingVoiceSender
from tests.support.scripted_llm import ScriptedLLM
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpPolicy, OtpService, SqliteOtpStore
from verification.livekit import OtpToolset

VERIFIED = "Thank you, that code is correct. You're verified."


@dataclass
class Line:
    session: AgentSession[None]
    llm: ScriptedLLM
    toolset: OtpToolset
    otp: OtpService
    sms: RecordingSmsSender
    calls: RecordingVoiceSender

    async def say(self, text: str, tool: str, **arguments: object) -> tuple[str, bool]:
        self.llm.call(tool, **arguments)
        result: RunResult[None] = await self.session.run(user_input=text)
        await self.otp.drain()
        return tool_output(result, tool)


@asynccontextmanager
async def line(tmp_path: Path, *, voice: bool = True) -> AsyncIterator[Line]:
    sms, calls = RecordingSmsSender(), RecordingVoiceSender()
    otp = OtpService(
        SqliteOtpStore(tmp_path / "otp.sqlite3"), sms, StaticDirectory({ON_FILE}),
        OtpPolicy(resend_cooldown_seconds=0), pepper=PEPPER, clinic_name="Bayview",
        voice_sender=calls if voice else None,
    )  # fmt: skip
    toolset = OtpToolset(otp, session_id="channels")
    scripted = ScriptedLLM()
    async with AgentSession[None](llm=scripted) as session:
        await session.start(Agent(instructions="Verify phones.", tools=[toolset]))
        yield Line(session, scripted, toolset, otp, sms, calls)
    await otp.aclose()


async def test_a_caller_whose_phone_gets_no_texts_gets_the_code_by_call(tmp_path: Path) -> None:
    async with line(tmp_path) as call:
        output, is_error = await call.say(
            "Texts never reach my landline, 415 555 0123",
            "request_otp", patient_phone="415 555 0123", channel="call",
        )  # fmt: skip
        assert not is_error and "calling the number ending in 0123" in output, output
        assert call.sms.sent == [] and [to for to, _, _ in call.calls.calls] == [ON_FILE]
        code = call.calls.last_code()

        output, _ = await call.say(f"It said {code}", "verify_otp", code=code)

    assert output == VERIFIED and call.toolset.verified_phone == ON_FILE


async def test_a_text_is_the_default(tmp_path: Path) -> None:
    async with line(tmp_path) as call:
        output, _ = await call.say("Text 415 555 0123", "request_otp", patient_phone="415 555 0123")
    assert output.startswith("I've texted") and call.calls.calls == []
    assert [to for to, _ in call.sms.sent] == [ON_FILE]


async def test_an_unknown_channel_is_refused_by_the_tools_schema(tmp_path: Path) -> None:
    async with line(tmp_path) as call:
        output, is_error = await call.say(
            "Email it to 415 555 0123", "request_otp", patient_phone="415 555 0123", channel="email"
        )
    assert is_error and output.startswith("Error parsing arguments for `request_otp`")
    assert call.sms.sent == [] and call.calls.calls == [] and call.toolset.code_requests == 0


async def test_the_code_goes_out_in_the_language_the_host_sets(tmp_path: Path) -> None:
    """The caller switched to Spanish: the host sets the toolset's language, and the text
    (and a call) then go out in Spanish."""
    async with line(tmp_path) as call:
        assert call.toolset.language == "en"
        call.toolset.language = "es-US"
        assert call.toolset.language == "es"
        await call.say("Mándelo al 415 555 0123", "request_otp", patient_phone="415 555 0123")
        [(_, body)] = call.sms.sent
        assert body.startswith("Código de Bayview:"), body

        output, _ = await call.say(
            "No me llegan los mensajes, llámeme",
            "request_otp", patient_phone="415 555 0123", channel="call",
        )  # fmt: skip
        assert "calling" in output, output
    [(_, spoken, language)] = call.calls.calls
    assert language == "es" and "Su código de verificación es" in spoken


async def test_a_language_without_a_folder_falls_back_to_english(tmp_path: Path) -> None:
    async with line(tmp_path) as call:
        call.toolset.language = "tlh"
        await call.say("Text 415 555 0123", "request_otp", patient_phone="415 555 0123")
    assert call.toolset.language == "en"
    assert "verification code" in call.sms.sent[0][1]


async def test_without_a_voice_sender_a_call_is_refused_the_same_for_everyone(
    tmp_path: Path,
) -> None:
    async with line(tmp_path, voice=False) as call:
        on_file, _ = await call.say(
            "Call 415 555 0123", "request_otp", patient_phone="415 555 0123", channel="call"
        )
        stranger, _ = await call.say(
            "Call 415 555 0199", "request_otp", patient_phone="415 555 0199", channel="call"
        )
    assert on_file == stranger and "can't call you" in on_file
    assert call.sms.sent == [] and call.toolset.pending_phone is None
