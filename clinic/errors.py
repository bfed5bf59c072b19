"""Domain errors for the clinic records, each with a message that is safe to say to a caller.

The agent's tools catch `ClinicError` and may read `str(error)` aloud, so messages never carry
another patient's name, date of birth, phone number or appointment details.
"""

from __future__ import annotations

from typing import Literal

RecordKind = Literal["patient", "slot", "appointment", "provider"]

_NOT_FOUND_MESSAGES: dict[RecordKind, str] = {
    "patient": "I couldn't find that patient record.",
    "slot": "I couldn't find that appointment time. It may have been removed.",
    "appointment": "I couldn't find that appointment.",
    "provider": "I couldn't find that provider.",
}


class ClinicError(Exception):
    """Base class: a request the records cannot satisfy. `str(error)` is caller-safe."""

    default_message = "Sorry, I couldn't complete that request."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self.args[0])


class NotFound(ClinicError):
    """No record with that id (or the id is malformed); `kind` says which sort of record."""

    def __init__(self, kind: RecordKind, message: str | None = None) -> None:
        self.kind: RecordKind = kind
        super().__init__(message or _NOT_FOUND_MESSAGES[kind])


class SlotTaken(ClinicError):
    """The slot already has a booked appointment (possibly booked a moment ago by another call)."""

    default_message = "Sorry, that time has just been taken. Let's pick another time."


class AlreadyCancelled(ClinicError):
    """The appointment was cancelled before; cancelling or moving it again is refused."""

    default_message = "That appointment is already cancelled."


class InPast(ClinicError):
    """The slot or appointment is not in the future, so it cannot be booked, moved or cancelled."""

    default_message = "That time has already passed."


class NoChange(ClinicError):
    """A reschedule onto the slot the appointment already has."""

    default_message = "The appointment is already at that time."


class Unavailable(ClinicError):
    """The database could not be reached or stayed locked past the busy timeout."""

    default_message = (
        "The appointment system isn't available right now. I can transfer you to our staff."
    )


__all__ = [
    "AlreadyCancelled",
    "ClinicError",
    "InPast",
    "NoChange",
    "NotFound",
    "RecordKind",
    "SlotTaken",
    "Unavailable",
]
