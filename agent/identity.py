"""Knowledge-based verification: name + date of birth (Level 1), + the phone on file (Level 2).

The rules, each enforced here in code:

* Per call, at most `MAX_IDENTITY_ATTEMPTS` unmatched answers; the place is reserved before
  the first `await`, so parallel calls in one turn cannot slip past it.
* Across calls, `IdentityThrottle` counts each unmatched answer in the shared store against
  every record the name matches (a wrong date of birth, or a wrong phone, is a guess at that
  record) and against the caller's own number. Past the limit the record answers exactly as
  a name that matches no one does (`NO_MATCH`); redialling resets nothing.
* A phone mismatch fails the whole answer with that same sentence, so the caller never
  learns which part was wrong, and only a phone the caller said counts (a model that fills
  in the caller ID tests nothing).
* The store unreachable: a clear sentence and staff, never a grant.
* A code proven in this call for a number several patients share becomes Level 2 for the
  patient the caller names here, and only for that one (rule 14).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from livekit.agents import ToolError

from clinic import Patient, parse_date
from verification import StoreUnavailable, VerificationLevel, normalize_phone
from verification.livekit import caller_said_code

from . import replies
from .replies import records_call
from .state import MAX_IDENTITY_ATTEMPTS, CallState, LimitReached

log = logging.getLogger(__name__)

IDENTITY = "identity"


def parse_birth_date(text: str) -> date:
    try:
        return parse_date(text)
    except ValueError:
        raise ToolError(replies.BAD_DATE_OF_BIRTH) from None


def caller_said_phone(e164: str, caller_turns: Iterable[str]) -> bool:
    """True when the caller said this number's digits in this call (a model that copies
    the caller ID, or invents a number, has not)."""
    national = e164[2:] if e164.startswith("+1") else e164.lstrip("+")
    return caller_said_code(national, caller_turns)


def phone_said(phone: str, region: str, caller_turns: Iterable[str]) -> str:
    """`phone` as E.164 if the caller said its digits in this call; else refuse. A number
    that cannot be a phone is returned as "" (a wrong phone, counted as such)."""
    try:
        e164 = normalize_phone(phone, region)
    except ValueError:
        return ""
    if not caller_said_phone(e164, caller_turns):
        raise ToolError(replies.PHONE_NOT_SAID)
    return e164


async def verify_identity(
    state: CallState,
    full_name: str,
    date_of_birth: str,
    phone: str | None,
    caller_turns: list[str],
) -> str:
    """Check one answer and grant what it proves; the sentence for the model."""
    if not full_name.strip():
        raise ToolError(replies.NO_NAME)
    dob = parse_birth_date(date_of_birth)
    options = state.services.options
    said_phone: str | None = None
    if phone and phone.strip() and options.allow_phone_match_level2:
        said_phone = phone_said(phone, state.services.otp.default_region, caller_turns)
    try:
        with state.reserve(IDENTITY, state.identity_failures, MAX_IDENTITY_ATTEMPTS):
            patient = await _check(state, full_name, dob, said_phone)
            if patient is None:
                state.identity_failures += 1
    except LimitReached:
        raise ToolError(replies.IDENTITY_CALL_LIMIT) from None
    if patient is None:
        return replies.NO_MATCH
    return _grant(state, patient, phone_matched=said_phone is not None)


async def _check(
    state: CallState, full_name: str, dob: date, said_phone: str | None
) -> Patient | None:
    """The record these answers prove, or None; every unmatched answer is counted."""
    clinic = state.services.clinic
    async with records_call():
        named = await clinic.patients_named(full_name)
        match = await clinic.find_patient(full_name, dob) if named else None
    throttle = state.services.throttle
    caller = state.caller_phone
    try:
        if caller is not None:
            decision = await throttle.attempt(record_id=None, caller_phone=caller)
            if not decision.allowed:
                raise ToolError(replies.IDENTITY_CALLER_LIMIT)
        targets = [match] if match is not None else named
        allowed = {}
        for record in targets:
            decision = await throttle.attempt(record_id=record.id, caller_phone=None)
            allowed[record.id] = decision.allowed
        if match is None or not allowed[match.id]:
            return None
        if said_phone is not None and said_phone != match.phone:
            return None
        await throttle.succeeded(record_id=match.id, caller_phone=caller)
    except StoreUnavailable:
        log.warning("identity throttle unavailable", extra={"session_id": state.session_id})
        raise ToolError(replies.IDENTITY_UNAVAILABLE) from None
    return match


def _grant(state: CallState, patient: Patient, *, phone_matched: bool) -> str:
    state.grant([patient.id], VerificationLevel.LEVEL_1)
    if phone_matched:
        state.grant([patient.id], VerificationLevel.LEVEL_2)
    proof = state.live_proven_phone()
    if proof is not None and proof.phone_e164 == patient.phone:
        # the phone was proven by a code earlier in this call; now the caller has named
        # which of its patients the call is about
        state.grant([patient.id], VerificationLevel.LEVEL_2, proven_at=proof.proven_at)
    state.active_patient_id = patient.id
    level = state.level_for(patient.id)
    log.info("caller identified", extra={"session_id": state.session_id, "level": int(level)})
    if level >= VerificationLevel.LEVEL_2:
        return f"Verified {patient.full_name}: may hear, book, cancel and reschedule."
    return (
        f"Verified {patient.full_name} by name and date of birth: may hear and book. "
        "Cancel or reschedule needs a texted code."
    )
