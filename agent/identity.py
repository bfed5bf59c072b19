"""Knowledge-based verification: name + date of birth (Level 1), + the phone on file (Level 2).

The rules, each enforced here in code:

* Only what the caller said is evaluated, and charged (rule 15): a name, a date of birth or a
  phone number the caller never said in this call (`verification.said`) is refused before
  anything is looked up, with one sentence telling the model to ask, and nothing is counted.
* Per call, at most `MAX_IDENTITY_ATTEMPTS` unmatched answers; the place is reserved before
  the first `await`, so parallel calls in one turn cannot slip past it.
* No record answers unless it was charged for that answer (rule 17): the record whose name
  and date of birth match is counted in advance in the shared store (`IdentityThrottle`)
  and answers only if its limit allows; an answer that matches no record is counted against
  every record the name matches. A right answer gives its charge back (it was no failure).
  A name matching more records than one answer may charge
  (`KnowledgePolicy.max_records_per_name`) closes this route for the name: the caller hears
  what a stranger's name hears, and the code is offered.
* A record past its limit answers exactly as a name that matches no one does (`NO_MATCH`);
  redialling resets nothing. The caller's own number has a limit across records too.
* A code proven in this call for a phone several patients share makes naming one of them
  cost that (record, proven phone) counter, not the record's own, which strangers can trip
  (rule 14; `IdentityThrottle(proven_phone=...)`).
* A phone mismatch fails the whole answer with that same sentence, so the caller never learns
  which part was wrong.
* The store unreachable: a clear sentence and staff, never a grant.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from livekit.agents import ToolError

from clinic import Patient, parse_date
from clinic.names import MAX_NAMED_PATIENTS
from verification import StoreUnavailable, VerificationLevel, normalize_phone
from verification.said import said_date, said_name, said_phone

from . import replies
from .replies import records_call
from .state import MAX_IDENTITY_ATTEMPTS, CallState, LimitReached

log = logging.getLogger(__name__)

IDENTITY = "identity"


def said_answer(
    state: CallState, full_name: str, date_of_birth: str, phone: str | None, turns: Sequence[str]
) -> tuple[date, str | None]:
    """The date of birth and (if given and allowed) the phone as E.164, each one the caller
    said in this call; refuse, charging nothing, for anything they did not say."""
    if not full_name.strip():
        raise ToolError(replies.NO_NAME)
    try:
        dob = parse_date(date_of_birth)
    except ValueError:
        raise ToolError(replies.BAD_DATE_OF_BIRTH) from None
    if not said_name(full_name, turns):
        raise ToolError(replies.NAME_NOT_SAID)
    if not said_date(dob, turns):
        raise ToolError(replies.DATE_NOT_SAID)
    if not (phone and phone.strip() and state.services.options.allow_phone_match_level2):
        return dob, None
    region = state.services.otp.default_region
    try:
        e164 = normalize_phone(phone, region)
    except ValueError:
        return dob, ""  # no phone number at all: a wrong phone, counted as such
    if not said_phone(e164, turns, region):
        raise ToolError(replies.PHONE_NOT_SAID)
    return dob, e164


async def verify_identity(
    state: CallState,
    full_name: str,
    date_of_birth: str,
    phone: str | None,
    turns: Sequence[str],
) -> str:
    """Check one answer and grant what it proves; the sentence for the model."""
    dob, said_phone_e164 = said_answer(state, full_name, date_of_birth, phone, turns)
    try:
        with state.reserve(IDENTITY, state.identity_failures, MAX_IDENTITY_ATTEMPTS):
            patient = await _check(state, full_name, dob, said_phone_e164)
            if patient is None:
                state.identity_failures += 1
    except LimitReached:
        raise ToolError(replies.IDENTITY_CALL_LIMIT) from None
    if patient is None:
        return replies.NO_MATCH
    return _grant(state, patient, phone_matched=said_phone_e164 is not None)


async def _check(
    state: CallState, full_name: str, dob: date, said_phone_e164: str | None
) -> Patient | None:
    """The record these answers prove, or None; every record asked about is charged first."""
    async with records_call():
        named = await state.services.clinic.patients_named(full_name)
    throttle = state.services.throttle
    most = min(throttle.policy.max_records_per_name, MAX_NAMED_PATIENTS)
    if len(named) > most:
        log.info("name matches too many records", extra={"session_id": state.session_id})
        return None  # too many to charge: the route is closed for this name
    caller = state.caller_phone
    proof = state.live_proven_phone()
    proven = proof.phone_e164 if proof is not None else None
    try:
        if caller is not None:
            decision = await throttle.attempt(record_id=None, caller_phone=caller)
            if not decision.allowed:
                raise ToolError(replies.IDENTITY_CALLER_LIMIT)
        # The record that would answer is charged before it answers; an answer that matches
        # no record is a failure against every record the name matches.
        match = next((record for record in named if record.date_of_birth == dob), None)
        for record in [match] if match is not None else named:
            on_proven = proven if record.phone == proven else None
            decision = await throttle.attempt(
                record_id=record.id, caller_phone=None, proven_phone=on_proven
            )
            if record is match and not decision.allowed:
                return None  # locked: it answers as no record does
        if match is None:
            return None
        if said_phone_e164 is not None and said_phone_e164 != match.phone:
            return None
        on_proven = proven if match.phone == proven else None
        await throttle.succeeded(record_id=match.id, caller_phone=caller, proven_phone=on_proven)
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
