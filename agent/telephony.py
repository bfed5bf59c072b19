"""The phone side of a call: who the SIP caller is, and a room that serves only them.

A phone call's room is the caller's and the agent's. LiveKit's session is built for rooms
where anyone may talk to the agent: by default every participant may send it text turns
(`lk.chat`), and a remote session host lets a participant drive it and read its history.
A phone call needs neither, so `phone_room` turns both off and links the session to the SIP
caller alone (their audio, nobody else's). The toolset takes keypad digits only from that
same participant (`verification.livekit`).

Call content (audio, transcript, tool arguments in traces) is not recorded unless the clinic
opts in (`RECORD_CALL_CONTENT=true`): traces, where LiveKit exports them, keep only timing
and structure, with LiveKit's own redaction on.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from livekit import api, rtc
from livekit.agents import NOT_GIVEN, AgentSession, JobContext, NotGivenOr, get_job_context
from livekit.agents.voice import room_io
from livekit.agents.voice.agent_session import RecordingOptions

from verification import normalize_phone

from .state import CallState

log = logging.getLogger(__name__)

SIP_PARTICIPANT_WAIT_SECONDS = 10.0

# What LiveKit may keep of a call when the clinic has not opted in: no audio, no transcript,
# traces and logs with LiveKit's PII redaction (transcripts and tool arguments dropped).
CONTENT_FREE_RECORDING = RecordingOptions(audio=False, transcript=False, redaction=True)


async def find_sip_caller(ctx: JobContext) -> rtc.RemoteParticipant | None:
    """The phone caller, if this is a SIP call (None in console mode or a browser call)."""
    if ctx.is_fake_job():
        return None
    try:
        participant = await asyncio.wait_for(
            ctx.wait_for_participant(), timeout=SIP_PARTICIPANT_WAIT_SECONDS
        )
    except TimeoutError:
        return None
    if participant.kind != rtc.ParticipantKind.PARTICIPANT_KIND_SIP:
        return None
    return participant


def remember_sip_caller(state: CallState, caller: rtc.RemoteParticipant) -> None:
    """Keep the caller's identity (for transfer and the keypad) and number (for
    `request_otp("caller")`), parsed once here with the clinic's region.

    A withheld or undialable caller ID ("anonymous", "") leaves `caller_phone` unset.
    """
    state.sip_participant_identity = caller.identity
    raw_number = caller.attributes.get("sip.phoneNumber", "")
    try:
        state.caller_phone = normalize_phone(raw_number, state.services.otp.default_region)
    except ValueError:
        state.caller_phone = None


@dataclass(frozen=True, slots=True)
class SessionRoom:
    """What `AgentSession.start` is given for one call's room."""

    room_options: NotGivenOr[room_io.RoomOptions]
    session_host: NotGivenOr[bool]
    record: NotGivenOr[RecordingOptions]

    def start_kwargs(self) -> dict[str, Any]:
        return {
            "room_options": self.room_options,
            "session_host": self.session_host,
            "record": self.record,
        }


def phone_room(
    caller: rtc.RemoteParticipant | None, *, record_content: bool = False
) -> SessionRoom:
    """Room options for a call: a SIP call is linked to its caller only, with no text input
    and no remote session host; any call keeps its content unrecorded unless
    `record_content` (then LiveKit's own project setting decides)."""
    record: NotGivenOr[RecordingOptions] = NOT_GIVEN if record_content else CONTENT_FREE_RECORDING
    noise = _telephony_noise_cancellation()
    if caller is None:
        options = room_io.RoomOptions(audio_input=noise) if noise is not None else NOT_GIVEN
        return SessionRoom(room_options=options, session_host=NOT_GIVEN, record=record)
    return SessionRoom(
        room_options=room_io.RoomOptions(
            text_input=False,
            audio_input=noise if noise is not None else NOT_GIVEN,
            participant_kinds=[rtc.ParticipantKind.PARTICIPANT_KIND_SIP],
            participant_identity=caller.identity,
        ),
        session_host=False,
        record=record,
    )


async def hang_up(session: AgentSession[Any], state: CallState) -> None:
    """End the call (call it once the last words are said): on the phone line the room is
    deleted (LiveKit's RoomService), which drops the caller's line; then the session ends."""
    job = get_job_context(required=False)
    if job is not None and state.sip_participant_identity:
        try:
            await job.api.room.delete_room(api.DeleteRoomRequest(room=job.room.name))
        except Exception:
            log.exception(
                "could not hang up the phone line", extra={"session_id": state.session_id}
            )
    session.shutdown(drain=True)


def _telephony_noise_cancellation() -> room_io.AudioInputOptions | None:
    """Telephony noise cancellation when LiveKit's plugin is installed (LiveKit Cloud only)."""
    try:
        from livekit.plugins import noise_cancellation  # type: ignore[attr-defined]
    except ImportError:
        return None
    return room_io.AudioInputOptions(noise_cancellation=noise_cancellation.BVCTelephony())


__all__ = [
    "CONTENT_FREE_RECORDING",
    "SessionRoom",
    "find_sip_caller",
    "hang_up",
    "phone_room",
    "remember_sip_caller",
]
