"""The one place a code check turns into verified state, for spoken and keypad entry alike."""

from __future__ import annotations

import logging

from verification import VerificationLevel, VerifyOutcome

from .state import CallState

log = logging.getLogger(__name__)

STAFF_HINT = " Offer transfer_to_staff."
# Outcomes after which the caller needs a person: no code can help them right now.
OFFER_STAFF_AFTER = frozenset({"locked", "rate_limited", "delivery_failed", "unavailable"})


def for_the_llm(status: str, message: str) -> str:
    """The outcome's sentence, plus the nudge to offer staff where the outcome calls for it."""
    return message + (STAFF_HINT if status in OFFER_STAFF_AFTER else "")


def _code_is_spent(outcome: VerifyOutcome) -> bool:
    """True when no live code is left to guess (used, burned, expired, or locked out)."""
    if outcome.status == "wrong_code":
        return outcome.attempts_left == 0
    return outcome.status in ("verified", "locked", "expired", "no_code")


async def check_code(state: CallState, code: str) -> tuple[VerifyOutcome, str]:
    """Verify `code` against this call's pending code; on success grant Level 2 for every
    patient whose record holds that phone. Returns the outcome and a sentence for the LLM (or
    the caller) that never contains the code."""
    phone = state.otp_phone
    if phone is None:
        raise LookupError("no code was requested in this call")
    outcome = await state.services.otp.verify_code(phone, code, session_id=state.session_id)
    if _code_is_spent(outcome):
        state.otp_phone = None
    if not outcome.verified:
        return outcome, for_the_llm(outcome.status, outcome.message)

    patients = await state.services.clinic.patients_with_phone(phone)
    state.grant((p.id for p in patients), VerificationLevel.LEVEL_2)
    log.info(
        "caller verified by code",
        extra={"session_id": state.session_id, "patients": len(patients)},
    )
    if len(patients) == 1:
        state.active_patient_id = patients[0].id
        return outcome, f"{outcome.message} Verified for {patients[0].full_name}."
    state.active_patient_id = None
    if not patients:
        return outcome, "That code is correct, but no patient record uses that number."
    names = " and ".join(p.full_name for p in patients)
    return outcome, (
        f"{outcome.message} Verified for {names}. Ask which of them the call is about, then "
        "call verify_identity with that patient's name and date of birth."
    )
