"""The plugin on a minimal agent: a real AgentSession in text mode, the scripted LLM, a real
OtpService on SQLite (or Redis), and a host hook that records what it was asked to grant."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from livekit import rtc
from livekit.agents import Agent, AgentSession, RunContext, RunResult
from livekit.rtc._proto import handle_pb2, participant_pb2, room_pb2

from tests.support.constants import ALSO_ON_FILE, ON_FILE, PEPPER
from tests.support.conversation import assert_no_code_in, generated_codes, tool_output
from tests.support.scripted_llm import ScriptedLLM
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpPolicy, OtpService, OtpStore, SmsReceipt
from verification.livekit import OtpToolset

CALLER_ID = ON_FILE
SIP_CALLER = "sip_+14155550123"
SIP = participant_pb2.ParticipantKind.PARTICIPANT_KIND_SIP
STANDARD = participant_pb2.ParticipantKind.PARTICIPANT_KIND_STANDARD


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


class RecordingVoiceSender:
    """An automated-call sender that keeps the calls it was asked to place."""

    provider = "recording-call"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []  # (to, what the call says, language)

    async def send(self, to: str, body: str, *, language: str = "en") -> SmsReceipt:
        self.calls.append((to, body, language))
        return SmsReceipt(provider=self.provider, message_id=f"call-{len(self.calls)}")

    def last_code(self, length: int = 6) -> str:
        """The code the last call read out (its digits are said one at a time)."""
        digits = re.sub(r"\D", "", self.calls[-1][1].split(":", 1)[-1])
        return digits[:length]


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


def assert_no_code_in_conversation(call: PluginCall) -> None:
    """No generated code in the history or the agent's context (see `assert_no_code_in`)."""
    contexts = [call.session.history, call.session.current_agent.chat_ctx]
    assert_no_code_in(contexts, generated_codes(call.sms))


# -- a phone room: the real `rtc.Room`, fed the protocol events LiveKit's native client sends --


def phone_room(*participants: tuple[str, int]) -> rtc.Room:
    """A room (never connected) in which these (identity, kind) participants have joined;
    by default the SIP caller alone."""
    room = rtc.Room()
    for identity, kind in participants or ((SIP_CALLER, SIP),):
        join(room, identity, kind)
    return room


def join(room: rtc.Room, identity: str, kind: int = STANDARD) -> None:
    """A `participant_connected` event, decoded by the room itself (handle 0: no native
    object behind it, so nothing is released when it goes)."""
    info = participant_pb2.ParticipantInfo(identity=identity, kind=kind)  # type: ignore[arg-type]
    owned = participant_pb2.OwnedParticipant(handle=handle_pb2.FfiOwnedHandle(id=0), info=info)
    connected = room_pb2.ParticipantConnected(info=owned)
    room._on_room_event(room_pb2.RoomEvent(participant_connected=connected))


def press(room: rtc.Room, keys: str, *, sender: str = SIP_CALLER) -> None:
    """Keypad presses as the room receives them: `sip_dtmf` data packets from `sender`."""
    for key in keys:
        dtmf = room_pb2.SipDTMF(code=0, digit=key)
        packet = room_pb2.DataPacketReceived(participant_identity=sender, sip_dtmf=dtmf)
        room._on_room_event(room_pb2.RoomEvent(data_packet_received=packet))
