"""What the tools tell the model: one sentence each, with the next right step.

Every refusal the clinic agent makes is worded here, so a newcomer finds the caller-facing
wording in one file, and `records_error` is the one way a records failure becomes a
`ToolError` (a `clinic.ClinicError` message is caller-safe by design; anything else the
records raise is not and never reaches the model).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from livekit.agents import ToolError

from clinic import ClinicError, Unavailable

log = logging.getLogger(__name__)

STAFF_HINT = " Offer transfer_to_staff."

NEEDS_LEVEL_1 = "The caller isn't verified yet. Ask for their full name and date of birth first."
NEEDS_LEVEL_2 = (
    "Cancelling or rescheduling needs a code texted to the phone number on file. "
    "Offer to text one (request_otp)."
)
NOT_YOURS = "I can't find that appointment among this caller's appointments."
SEVERAL_VERIFIED = (
    "Several patients are verified on this call. Ask which one, then verify_identity."
)
# The one answer to a name and date of birth (and phone) that do not all match an unlocked
# record: the same for a stranger, a wrong date, a wrong phone and a locked record.
NO_MATCH = (
    "No patient record matches those details. Ask the caller to check them, or offer a "
    "texted code (request_otp) or transfer_to_staff."
)
IDENTITY_CALL_LIMIT = "Too many unmatched attempts on this call." + STAFF_HINT
IDENTITY_CALLER_LIMIT = (
    "Name and date of birth can't be checked from this phone for now. Offer a texted code "
    "(request_otp) or transfer_to_staff."
)
IDENTITY_UNAVAILABLE = (
    "Identity checks aren't available right now, so no one can be verified by name. "
    "Tell the caller and offer transfer_to_staff."
)
BAD_DATE_OF_BIRTH = "I couldn't understand that date of birth. Ask for month, day and year."
NO_NAME = "Ask for the caller's full name, first and last."
PHONE_NOT_SAID = (
    "Only a phone number the caller says counts. Ask the caller to say the number on file, "
    "or leave phone out."
)
# A fact the caller never said is not checked, and costs no one anything (rule 15).
NAME_NOT_SAID = "Nothing was checked: ask the caller for their full name, first and last."
DATE_NOT_SAID = "Nothing was checked: ask the caller for their date of birth."
RECORDS_UNAVAILABLE = (
    "The appointment system isn't available right now. Tell the caller and offer transfer_to_staff."
)
BOOKING_LIMIT = (
    "No more new bookings can be made by phone for now. Tell the caller and offer "
    "transfer_to_staff for more."
)
# Added after the toolset's "that code is correct" sentence.
SHARED_PHONE = (
    "Several patients share this number, so no one is verified yet: ask which patient the "
    "call is about, then verify_identity with that patient's full name and date of birth. "
    "Do not guess or list names."
)
CODE_NO_PATIENT = "But no patient record uses that number, so no one is verified." + STAFF_HINT


def records_error(error: Exception) -> ToolError:
    """The `ToolError` for a records failure: the record's own caller-safe sentence for a
    domain refusal (slot taken, not found...), one fixed sentence for an outage or anything
    unexpected (whose text could carry anything), always with the offer of staff."""
    if isinstance(error, ClinicError) and not isinstance(error, Unavailable):
        return ToolError(error.message)
    log.warning("clinic records unavailable", extra={"error": type(error).__name__})
    return ToolError(RECORDS_UNAVAILABLE)


@asynccontextmanager
async def records_call() -> AsyncIterator[None]:
    """Run a block of records calls; a `ClinicError` (or an outage) becomes a `ToolError`."""
    try:
        yield
    except ClinicError as exc:
        raise records_error(exc) from None


# What the caller hears for one of these refusals when the model, instead of answering, writes
# a tool call as text (`verification.livekit.SpeechHygiene`): a sentence that moves the call
# on, in the call's language (`prompts/<language>/phrases.toml`).
CALLER_PHRASES = {
    NEEDS_LEVEL_1: "needs_identity",
    NEEDS_LEVEL_2: "needs_code",
    NOT_YOURS: "not_yours",
    NO_MATCH: "no_match",
}
