"""A quiet line ends politely (issue 19 item 3), and a caller who says goodbye can end the
call: the real session with LiveKit's own away countdown (made short), and on the phone line
LiveKit's RoomService stand-in hearing the room deleted (the caller's line drops)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from livekit import rtc
from livekit.agents.testing import fake_job_context
from livekit.agents.utils import http_context

from agent import CallOptions
from agent.instructions import phrase
from clinic import ClinicDB
from tests.support.clinic_calls import Call, agent_said, open_call, say, until_closed, until_item
from tests.support.constants import PEPPER
from tests.support.livekit_standin import LiveKitSipStandin
from tests.support.sms import RecordingSmsSender
from verification import OtpService, SqliteOtpStore

QUIET_SECONDS = 0.3
STILL_THERE = phrase("still_there")
GOODBYE = phrase("quiet_goodbye")


@asynccontextmanager
async def quiet_call_on(clinic: ClinicDB, tmp_path: Path) -> AsyncIterator[Call]:
    """A call whose away countdown is `QUIET_SECONDS` (LiveKit's `user_away_timeout`)."""
    sms = RecordingSmsSender()
    otp = OtpService(SqliteOtpStore(tmp_path / "otp.sqlite3"), sms, clinic, pepper=PEPPER)
    async with open_call(
        clinic, otp, sms, CallOptions(), quiet_line_seconds=QUIET_SECONDS
    ) as opened:
        yield opened
    await otp.aclose()


@pytest.fixture
async def quiet_call(clinic: ClinicDB, tmp_path: Path) -> AsyncIterator[Call]:
    async with quiet_call_on(clinic, tmp_path) as opened:
        yield opened


async def test_a_silent_caller_is_asked_once_then_the_call_ends(quiet_call: Call) -> None:
    await until_closed(quiet_call)
    said = agent_said(quiet_call)
    assert said.count(STILL_THERE) == 1
    assert said[-2:] == [STILL_THERE, GOODBYE]


async def test_a_caller_who_answers_the_question_keeps_the_call(quiet_call: Call) -> None:
    await until_item(
        quiet_call,
        lambda item: (
            item.type == "message" and item.role == "assistant" and item.text_content == STILL_THERE
        ),
    )
    quiet_call.llm.say("Great, how can I help?")
    await quiet_call.session.run(user_input="Yes, sorry, I'm here")
    # the next silence is a new one: asked again before any goodbye
    await until_closed(quiet_call)
    said = agent_said(quiet_call)
    assert said.count(STILL_THERE) == 2
    assert said[-3:] == ["Great, how can I help?", STILL_THERE, GOODBYE]


async def test_on_the_phone_line_a_quiet_call_hangs_up(
    clinic: ClinicDB, tmp_path: Path, livekit_server: LiveKitSipStandin
) -> None:
    async with http_context.open():
        with fake_job_context(room=rtc.Room()) as job:  # the call runs inside its job
            async with quiet_call_on(clinic, tmp_path) as call:
                call.state.sip_participant_identity = "sip_caller"
                await until_closed(call)
    assert agent_said(call)[-1] == GOODBYE
    assert livekit_server.deleted_rooms == [job.room.name]


async def test_a_caller_who_says_goodbye_ends_the_call(
    call: Call, livekit_server: LiveKitSipStandin
) -> None:
    call.state.sip_participant_identity = "sip_caller"
    async with http_context.open():
        with fake_job_context(room=rtc.Room()) as job:
            output, is_error = await say(call, "That's all, thanks, bye!", "end_call")
            await asyncio.gather(*call.state.background)
            await until_closed(call)
    assert not is_error and "goodbye" in output
    assert livekit_server.deleted_rooms == [job.room.name]
