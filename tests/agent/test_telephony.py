"""Telephony paths of the tools: texting the caller's own number, and staff transfer over SIP."""

from __future__ import annotations

import asyncio

import pytest
from livekit import api, rtc
from livekit.agents.testing import fake_job_context
from livekit.agents.utils import http_context, is_given
from livekit.agents.voice import room_io

from agent import CallOptions
from agent.settings import AgentSettings
from agent.telephony import phone_room, remember_sip_caller
from clinic import demo
from tests.support.clinic_calls import Call, say
from tests.support.livekit_standin import LiveKitSipStandin

STAFF = "+14155550100"


@pytest.mark.parametrize("caller_phone", [demo.JANE.phone])
async def test_caller_id_is_offered_and_texted_only_through_request_otp(call: Call) -> None:
    output, is_error = await say(call, "Text the number I'm calling from", "request_otp",
                                 patient_phone="caller")  # fmt: skip

    assert not is_error and "ending in 0123" in output
    assert [to for to, _ in call.sms.sent] == [demo.JANE.phone]


# e.g. a spoofed or unknown caller ID
@pytest.mark.parametrize("caller_phone", [demo.NOT_ON_FILE_PHONE])
async def test_caller_id_that_is_not_on_file_gets_a_decoy(call: Call) -> None:
    output, _ = await say(call, "Text this phone", "request_otp", patient_phone="caller")
    assert output.startswith("I've texted a 6-digit code") and call.sms.sent == []


async def test_without_caller_id_the_caller_keyword_is_refused(call: Call) -> None:
    output, is_error = await say(call, "Text this phone", "request_otp", patient_phone="caller")
    assert is_error and "isn't known" in output and call.sms.sent == []


@pytest.mark.parametrize("call_options", [CallOptions(staff_transfer_number=STAFF)])
@pytest.mark.parametrize(
    "status",
    [api.SIPTransferStatus.STS_TRANSFER_SUCCESSFUL, api.SIPTransferStatus.STS_TRANSFER_FAILED],
)
async def test_staff_transfer_on_a_sip_call(
    call: Call, livekit_server: LiveKitSipStandin, status: api.SIPTransferStatus
) -> None:
    livekit_server.status = status
    call.state.sip_participant_identity = "sip_caller"
    async with http_context.open():
        with fake_job_context(room=rtc.Room()) as job:
            output, is_error = await say(call, "Get me a person", "transfer_to_staff",
                                         reason="wants a person")  # fmt: skip
            await asyncio.gather(*call.state.background)

    assert not is_error and output.startswith("Transferring now")
    (request,) = livekit_server.transfers
    assert request.transfer_to == f"tel:{STAFF}"
    assert request.participant_identity == "sip_caller"
    assert request.room_name == job.room.name
    assert livekit_server.authorization[0].startswith("Bearer ")
    apologies = [
        i.text_content or ""
        for i in call.session.history.items
        if i.type == "message" and "couldn't transfer you" in (i.text_content or "")
    ]
    assert len(apologies) == (1 if status == api.SIPTransferStatus.STS_TRANSFER_FAILED else 0)


async def test_without_sip_the_caller_hears_the_front_desk_number(call: Call) -> None:
    output, is_error = await say(call, "Get me a person", "transfer_to_staff", reason="help")
    assert not is_error and "415 555 0100" in output and "weekdays 8 to 5" in output


class _SipParticipant:
    """The two things the entrypoint reads from LiveKit's SIP participant."""

    def __init__(self, number: str) -> None:
        self.identity = "sip_+14155550123"
        self.attributes = {"sip.phoneNumber": number, "sip.trunkID": "ST_standin"}


@pytest.mark.parametrize(
    ("number", "kept"),
    [("+14155550123", "+14155550123"), ("4155550123", "+14155550123"), ("anonymous", None),
     ("", None)],
)  # fmt: skip
def test_sip_caller_number_is_kept_normalised_or_not_at_all(
    call: Call, number: str, kept: str | None
) -> None:
    remember_sip_caller(call.state, _SipParticipant(number))  # type: ignore[arg-type]
    assert call.state.caller_phone == kept
    assert call.state.sip_participant_identity == "sip_+14155550123"


# -- a phone room is for the phone caller (issue 15 item 9) ------------------------------------


def test_a_phone_room_serves_the_sip_caller_only() -> None:
    """By default LiveKit's session takes text turns from any participant (`lk.chat`) and
    lets a participant host it remotely (drive it, read its history). A phone call needs
    neither: the session is linked to the SIP caller's audio alone, with no text input and
    no session host."""
    room = phone_room(_SipParticipant("+14155550123"))  # type: ignore[arg-type]
    options = room.room_options
    assert isinstance(options, room_io.RoomOptions)
    assert options.text_input is False and options.get_text_input_options() is None
    assert options.participant_kinds == [rtc.ParticipantKind.PARTICIPANT_KIND_SIP]
    assert options.participant_identity == "sip_+14155550123"
    assert room.session_host is False


def test_call_content_is_not_recorded_unless_the_clinic_opts_in() -> None:
    """Where LiveKit records or traces a session, it keeps no audio, no transcript, and its
    PII redaction drops transcripts and tool arguments from traces, unless
    RECORD_CALL_CONTENT=true hands the decision back to LiveKit's project setting."""
    for caller in (None, _SipParticipant("+14155550123")):
        recording = phone_room(caller).record  # type: ignore[arg-type]
        assert recording == {"audio": False, "transcript": False, "redaction": True}
        assert not is_given(phone_room(caller, record_content=True).record)  # type: ignore[arg-type]
    assert AgentSettings.from_env({}).record_call_content is False
    assert AgentSettings.from_env({"RECORD_CALL_CONTENT": "true"}).record_call_content
