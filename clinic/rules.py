"""The booking rules, as pure functions of what a write transaction read under its locks.

`clinic.records.ClinicRecords` asks these functions which `ClinicError` a refused write
raises, so every backend refuses the same things with the same sentences. A backend's write
transaction reads the rows it decides on (locking them), writes only when the matching
`*_refusal` function finds nothing to refuse, and returns what it read; a refusal is raised
by `ClinicRecords` afterwards, so a refused write has changed nothing. SQLite calls these
functions inside its `BEGIN IMMEDIATE`; PostgreSQL states the same conditions in the one
statement that locks and writes (`clinic.postgres_sql`), and the records suite checks that
both refuse alike.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Final

from .errors import AlreadyCancelled, ClinicError, InPast, NoChange, NotFound, SlotTaken
from .models import Appointment, Patient, Slot
from .names import is_exact, name_parts, names_match, parts_match

MAX_OPEN_SLOTS: Final = 100
_PROVIDER_TITLES: Final = frozenset({"dr", "doctor", "doc", "md"})


def as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def clean_patient_name(full_name: str) -> str:
    """The name as stored: single spaces. `ValueError` if it has nothing to compare by."""
    name = " ".join(str(full_name).split())
    if not name_parts(name):
        raise ValueError("a patient needs a name with letters in it")
    return name


def clean_provider(provider: str) -> str:
    name = " ".join(str(provider).split())
    if not name:
        raise ValueError("a slot needs a provider name")
    return name


def check_slot_time(starts_at: datetime) -> datetime:
    """A slot starts at a naive clinic-local time, stored to the second."""
    if not isinstance(starts_at, datetime):
        raise ValueError("starts_at must be a datetime")
    if starts_at.tzinfo is not None:
        raise ValueError("starts_at must be naive clinic-local time, not timezone-aware")
    return starts_at.replace(microsecond=0)


# ---------------------------------------------------------------------------- writes


@dataclass(frozen=True, slots=True)
class BookingSeen:
    """What a booking read: does the patient exist, the slot (None: no such slot), is it taken."""

    patient_found: bool
    slot: Slot | None
    slot_taken: bool


@dataclass(frozen=True, slots=True)
class MoveSeen:
    """What a reschedule read: the appointment, the slot it moves to, whether that is taken."""

    appointment: Appointment | None
    new_slot: Slot | None
    new_slot_taken: bool


def booking_refusal(seen: BookingSeen, *, now: datetime) -> ClinicError | None:
    """Why this booking may not happen, or None: it may (the first reason in this order)."""
    if not seen.patient_found:
        return NotFound("patient")
    if seen.slot is None:
        return NotFound("slot")
    if seen.slot.starts_at <= now:
        return InPast()
    if seen.slot_taken:
        return SlotTaken()
    return None


def cancel_refusal(current: Appointment | None, *, now: datetime) -> ClinicError | None:
    """Why this appointment may not be cancelled, or None."""
    if current is None:
        return NotFound("appointment")
    if current.status == "cancelled":
        return AlreadyCancelled()
    if current.starts_at <= now:
        return InPast("That appointment time has already passed, so it can't be cancelled.")
    return None


def move_refusal(seen: MoveSeen, *, now: datetime) -> ClinicError | None:
    """Why this appointment may not move to the new slot, or None.

    Whether the appointment may move at all is decided before the new slot is looked at, so
    a cancelled appointment is "cancelled" whatever slot was asked for."""
    current = seen.appointment
    if current is None:
        return NotFound("appointment")
    if current.status == "cancelled":
        return AlreadyCancelled(
            "That appointment is cancelled, so it can't be moved. I can book a new one."
        )
    if current.starts_at <= now:
        return InPast("That appointment time has already passed, so it can't be moved.")
    if seen.new_slot is None:
        return NotFound("slot")
    if seen.new_slot.id == current.slot_id:
        return NoChange()
    if seen.new_slot.starts_at <= now:
        return InPast()
    if seen.new_slot_taken:
        return SlotTaken()
    return None


def cancelled(current: Appointment) -> Appointment:
    """The appointment as a cancel leaves it."""
    return replace(current, status="cancelled")


def moved(current: Appointment, new_slot: Slot) -> Appointment:
    """The appointment as a reschedule leaves it: same id, the new slot's time and provider."""
    return replace(
        current, slot_id=new_slot.id, provider=new_slot.provider, starts_at=new_slot.starts_at
    )


# ---------------------------------------------------------------------------- reads


@dataclass(frozen=True, slots=True)
class SlotWindow:
    """The time range `open_slots` searches: after `now`, from `lower`, before `upper`."""

    now: datetime
    lower: datetime
    upper: datetime
    limit: int


def slot_window(*, now: datetime, start: date | None, end: date | None, limit: int) -> SlotWindow:
    """`start`/`end` are inclusive days; the day after `end` bounds the range."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    lower = datetime.combine(as_date(start), time()) if start else datetime.min
    upper = (
        datetime.combine(as_date(end) + timedelta(days=1), time())
        if end and as_date(end) < date.max
        else datetime.max.replace(microsecond=0)
    )
    return SlotWindow(now=now, lower=lower, upper=upper, limit=min(limit, MAX_OPEN_SLOTS))


def provider_words(name: str) -> list[str]:
    return [w for w in name_parts(name) if w not in _PROVIDER_TITLES]


def provider_matches(query_words: list[str], provider: str) -> bool:
    """Every word the caller said matches a word of the provider's name ("patel", "Pat")."""
    words = provider_words(provider)
    return all(
        any((len(q) >= 3 and w.startswith(q)) or parts_match(q, w) for w in words)
        for q in query_words
    )


def pick_patient(full_name: str, candidates: list[Patient]) -> tuple[Patient | None, int]:
    """The one candidate whose name matches, preferring an exact match; never a guess.

    Returns (patient or None, how many matched), so the caller can log an ambiguity.
    """
    exact = [p for p in candidates if is_exact(full_name, p.full_name)]
    if len(exact) == 1:
        return exact[0], 1
    loose = [p for p in candidates if names_match(full_name, p.full_name)]
    if len(exact) > 1 or len(loose) > 1:
        return None, len(exact) or len(loose)
    return (loose[0], 1) if loose else (None, 0)


__all__ = [
    "MAX_OPEN_SLOTS",
    "BookingSeen",
    "MoveSeen",
    "SlotWindow",
    "as_date",
    "booking_refusal",
    "cancel_refusal",
    "cancelled",
    "check_slot_time",
    "clean_patient_name",
    "clean_provider",
    "move_refusal",
    "moved",
    "pick_patient",
    "provider_matches",
    "provider_words",
    "slot_window",
]
