"""Handing a caller to a person: a transfer on the phone line, the front desk's number elsewhere.

The one way the call reaches staff, whoever asks: the model's `transfer_to_staff` tool, and
the call itself when a service it depends on fails (`agent/failures.py`). On a SIP call with
`STAFF_PHONE_NUMBER` set, the caller is transferred through LiveKit's SIP API once the
sentence announcing it has been said; anywhere else (the console, a browser call, no staff
number) the caller hears the front desk's number and hours.
"""

from __future__ import annotations

import logging
from typing import Any

from livekit import api
from livekit.agents import AgentSession, get_job_context

from .instructions import phrase
from .state import CallOptions, CallState

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
        desk = state.services.options.front_desk_phone or "the number on our website"
        await session.say(phrase("transfer_failed", state.language, desk=desk))
        return False
    log.info("caller transferred to staff", extra={"session_id": state.session_id})
    return True


__all__ = ["can_transfer", "front_desk", "transfer"]
