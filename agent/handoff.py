"""Handing a caller to a person: a transfer on the phone line, the front desk's number elsewhere.

The one way the call reaches staff, whoever asks: the model's `transfer_to_staff` tool, and
the call itself when a service it depends on fails (`agent/failures.py`). On a SIP call with
`STAFF_PHONE_NUMBER` set:

* **warm** (`STAFF_TRANSFER_MODE=warm`, with the outbound trunk that dials staff): the caller
  is put on hold while LiveKit's `WarmTransferTask` dials staff and briefs them
  (`staff_briefing`: who called, what they wanted, what was verified; never a code or a full
  number, because the briefing is built from the call's state, not from its transcript), and
  staff are connected once they agree. If staff can't be reached, decline or send it to
  voicemail, the cold transfer follows.
* **cold**: the caller is transferred straight to the staff number through LiveKit's SIP API,
  once the sentence announcing it has been said.

Anywhere else (the console, a browser call, no staff number) the caller hears the front desk's
number and hours.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from livekit import api
from livekit.agents import AgentSession, ToolError, get_job_context
from livekit.agents.beta.workflows import WarmTransferTask

from clinic import ClinicError
from verification import VerificationLevel, mask_phone
from verification.hygiene import filter_text

from .instructions import DEFAULT_LANGUAGE, load_prompt, phrase
from .state import CallOptions, CallState

MAX_REASON_CHARS = 200

log = logging.getLogger(__name__)


def front_desk(options: CallOptions) -> str:
    """Where a caller reaches a person without a transfer: "415 555 0100, weekdays 8 to 5"."""
    desk = options.front_desk_phone or "the number on our website"
    hours = f", {options.front_desk_hours}" if options.front_desk_hours else ""
    return f"{desk}{hours}"


def can_transfer(state: CallState) -> bool:
    """A live transfer is possible: a SIP caller, a staff number, a LiveKit job."""
    return bool(
        state.services.options.staff_transfer_number
        and state.sip_participant_identity
        and get_job_context(required=False) is not None
    )


async def transfer(state: CallState, session: AgentSession[Any]) -> bool:
    """Transfer the SIP caller to the staff number now; on failure the caller hears the front
    desk's number. True when LiveKit reports the transfer done. (A failed transfer comes back
    as a status, not an exception: both end in the same apology.)"""
    job = get_job_context()
    number = state.services.options.staff_transfer_number or ""
    try:
        result = await job.api.sip.transfer_sip_participant(
            api.TransferSIPParticipantRequest(
                room_name=job.room.name,
                participant_identity=state.sip_participant_identity or "",
                transfer_to=f"tel:{number}",
                play_dialtone=False,
            )
        )
        failed = result.status == api.SIPTransferStatus.STS_TRANSFER_FAILED
    except Exception:
        log.exception("staff transfer failed", extra={"session_id": state.session_id})
        failed = True
    if failed:
        log.warning("staff transfer not completed", extra={"session_id": state.session_id})
        desk = front_desk(state.services.options)
        await session.say(phrase("transfer_failed", state.language, desk=desk))
        return False
    log.info("caller transferred to staff", extra={"session_id": state.session_id})
    return True


def can_warm_transfer(state: CallState) -> bool:
    """A warm transfer is set up: a live transfer is possible, and the clinic asked for warm
    transfers with the outbound trunk that dials staff."""
    options = state.services.options
    return can_transfer(state) and options.warm_transfer and bool(options.sip_outbound_trunk)


async def staff_briefing(state: CallState, reason: str) -> str:
    """What staff hear before the caller is connected, in the clinic's own language: the
    caller's number (masked), who is verified and for what, why they want a person, the
    language they speak. Built from what code proved, never from the transcript; the
    model's `reason` goes through the speech filter, so no code or number rides along."""

    def say(key: str, **values: str) -> str:
        return phrase(key, DEFAULT_LANGUAGE, **values)

    parts = [
        say("briefing_caller_id", masked=mask_phone(state.caller_phone))
        if state.caller_phone
        else say("briefing_withheld")
    ]
    clinic = state.services.clinic
    verified = state.verified_patients(VerificationLevel.LEVEL_1)
    for patient_id in verified:
        name = (await clinic.get_patient(patient_id)).full_name
        level = state.level_for(patient_id)
        key = "briefing_level_2" if level >= VerificationLevel.LEVEL_2 else "briefing_level_1"
        parts.append(say(key, name=name))
    if not verified:
        shared = state.live_proven_phone() is not None
        parts.append(say("briefing_shared_phone" if shared else "briefing_unverified"))
    said = " ".join(filter_text(reason).split())[:MAX_REASON_CHARS]
    if said:
        parts.append(say("briefing_reason", reason=said.rstrip(".") + "."))
    if state.language != DEFAULT_LANGUAGE:
        parts.append(say("briefing_language", language=phrase("name_in_english", state.language)))
    return " ".join(parts)


async def warm_transfer(
    state: CallState, session: AgentSession[Any], *, clinic_name: str, reason: str
) -> bool:
    """Brief staff, then connect the caller (LiveKit's `WarmTransferTask`, awaited from a tool:
    the caller hears hold music meanwhile). True when staff took the call; False when they
    could not be reached, declined or were voicemail, or the records that name the verified
    patient are down (the caller is back with the agent, for the cold transfer)."""
    options = state.services.options
    try:
        briefing = await staff_briefing(state, reason)
    except ClinicError as exc:  # the records are down: the caller, on hold, goes cold
        log.warning(
            "warm transfer not started: no briefing",
            extra={"session_id": state.session_id, "why": type(exc).__name__},
        )
        return False
    instructions = load_prompt("briefing", DEFAULT_LANGUAGE).format(
        clinic_name=clinic_name, briefing=briefing
    )
    log.info("warm transfer: dialling staff", extra={"session_id": state.session_id})
    waiting = options.warm_transfer_timeout_seconds
    try:
        async with asyncio.timeout(waiting):  # never on hold for ever
            result = await WarmTransferTask(
                options.staff_transfer_number or "",
                sip_trunk_id=options.sip_outbound_trunk,
                instructions=instructions,
                ringing_timeout=waiting / 2,
            )
    except (ToolError, TimeoutError) as exc:
        log.warning(
            "warm transfer not completed",
            extra={"session_id": state.session_id, "why": str(exc) or type(exc).__name__},
        )
        return False
    log.info(
        "caller connected to staff",
        extra={"session_id": state.session_id, "staff": result.human_agent_identity},
    )
    return True


__all__ = [
    "can_transfer",
    "can_warm_transfer",
    "front_desk",
    "staff_briefing",
    "transfer",
    "warm_transfer",
]
