"""What a proven phone grants: the clinic agent's `on_verified` hook for the OTP toolset.

A code proves that the caller holds the phone, not who the caller is. When one patient has
that number, the proof is Level 2 for that patient. When several share it (a family), it is
Level 2 only for a patient the caller names (name and date of birth on record), before or
after the code; the agent never reads the other names on the number (rule 14).

If the records fail here, the exception goes back to the toolset, which tells the caller the
system is unavailable and offers staff: nothing is granted, no proof is kept.
"""

from __future__ import annotations

import logging

from verification import VerificationLevel

from . import replies
from .state import CallState, ProvenPhone

log = logging.getLogger(__name__)


async def grant_for_proven_phone(state: CallState, phone_e164: str) -> str:
    """Grant Level 2 for the patients this proof covers; a sentence for the model."""
    patients = await state.services.clinic.patients_with_phone(phone_e164)
    if not patients:
        return replies.CODE_NO_PATIENT
    proven_at = state.clock()
    state.proven_phone = ProvenPhone(phone_e164, proven_at)
    if len(patients) == 1:
        covered = patients
    else:
        covered = [p for p in patients if state.holds(p.id, VerificationLevel.LEVEL_1)]
    state.grant((p.id for p in covered), VerificationLevel.LEVEL_2, proven_at=proven_at)
    log.info(
        "caller verified by code",
        extra={"session_id": state.session_id, "patients": len(patients), "named": len(covered)},
    )
    if not covered:
        state.active_patient_id = None
        return replies.SHARED_PHONE
    if len(covered) == 1:
        state.active_patient_id = covered[0].id
        return f"Verified for {covered[0].full_name}."
    state.active_patient_id = None
    return "Verified for the patients named on this call. Ask which one the call is about."
