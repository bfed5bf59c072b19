"""The booking rules every record backend enforces, as pure functions of what it read.

Each backend reads the rows inside its write transaction (with the row locks it needs), asks
these functions whether the write may go ahead, and only then writes. A refusal raises the
`ClinicError` the caller hears, before anything was written, so a refused write changes nothing.
Keeping the rules here means SQLite and PostgreSQL (and any adapter) refuse the same things
with the same sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

from .errors import AlreadyCancelled, InPast, NoChange
from .models import Appointment, Patient, Slot
from .names import is_exact, name_parts, names_match, parts_match

MAX_OPEN_SLOTS: Final = 100
_PROVIDER_TITLES: Final = frozenset({"dr", "doctor", "doc", "md"})


def as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def fmt_time(value: datetime) -> str:
    """ISO-8601 to the second: how SQLite stores times (they sort and compare as text)."""
    return value.replace(microsecond=0).isoformat(timespec="seconds")


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


def check_bookable(slot: Slot, *, now: datetime) -> None:
    """A slot may be booked only while it is in the future (taken-ness is the backend's lock)."""
    if slot.starts_at <= now:
        raise InPast()


def check_cancellable(current: Appointment, *, now: datetime) -> None:
    if current.status == "cancelled":
        raise AlreadyCancelled()
    if current.starts_at <= now:
        raise InPast("That appointment time has already passed, so it can't be cancelled.")


def check_movable(current: Appointment, *, now: datetime) -> None:
    """Whether this appointment may move at all (checked before the new slot is looked up)."""
    if current.status == "cancelled":
        raise AlreadyCancelled(
            "That appointment is cancelled, so it can't be moved. I can book a new one."
        )
    if current.starts_at <= now:
        raise InPast("That appointment time has already passed, so it can't be moved.")


def check_new_slot(current: Appointment, new_slot: Slot, *, now: datetime) -> None:
    """Whether the appointment may move to `new_slot` (taken-ness is the backend's lock)."""
    if new_slot.id == current.slot_id:
        raise NoChange()
    if new_slot.starts_at <= now:
        raise InPast()


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
    "SlotWindow",
    "as_date",
    "check_bookable",
    "check_cancellable",
    "check_movable",
    "check_new_slot",
    "check_slot_time",
    "clean_patient_name",
    "clean_provider",
    "fmt_time",
    "pick_patient",
    "provider_matches",
    "provider_words",
    "slot_window",
]
