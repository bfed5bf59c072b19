"""Demo data for console mode, tests and the README: who to pretend to be when you call.

`ClinicDB.demo(path)` loads this into an empty database. Slots are laid out relative to the
day it is loaded: weekdays from tomorrow for `DEMO_DAYS` days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final


@dataclass(frozen=True, slots=True)
class DemoPatient:
    full_name: str
    date_of_birth: date
    phone: str  # E.164


JANE: Final = DemoPatient("Jane Doe", date(1985, 4, 12), "+14155550123")
JOHN: Final = DemoPatient("John Smith", date(1972, 9, 30), "+14155550188")
# A parent and child sharing one number: after a code to that phone both records are unlocked.
MARIA: Final = DemoPatient("Maria Garcia", date(1980, 6, 3), "+14155550142")
LUCAS: Final = DemoPatient("Lucas Garcia", date(2014, 11, 21), "+14155550142")
DEMO_PATIENTS: Final = (JANE, JOHN, MARIA, LUCAS)

SHARED_PHONE: Final = MARIA.phone
NOT_ON_FILE_PHONE: Final = "+14155550199"  # a valid number that no demo patient has

PATEL: Final = "Dr. Patel"
NGUYEN: Final = "Dr. Nguyen"
OKAFOR: Final = "Dr. Okafor"
DEMO_PROVIDERS: Final = (PATEL, NGUYEN, OKAFOR)

DEMO_DAYS: Final = 14
# Hours each provider sees patients, on weekdays (Monday=0); Dr. Okafor only Tue/Thu.
_HOURS: Final[dict[str, tuple[int, ...]]] = {
    PATEL: (9, 10, 11, 13, 14, 15),
    NGUYEN: (9, 10, 11, 14, 15, 16),
    OKAFOR: (10, 11, 13, 14),
}
_WEEKDAYS: Final[dict[str, frozenset[int]]] = {
    PATEL: frozenset(range(5)),
    NGUYEN: frozenset(range(5)),
    OKAFOR: frozenset({1, 3}),
}


@dataclass(frozen=True, slots=True)
class DemoBooking:
    """A booked appointment: the nth demo weekday (0 = first), at `hour`, with `provider`."""

    patient: DemoPatient
    provider: str
    weekday_index: int
    hour: int


DEMO_BOOKINGS: Final = (
    DemoBooking(JANE, PATEL, 1, 10),
    DemoBooking(JANE, NGUYEN, 6, 14),
    DemoBooking(JOHN, PATEL, 2, 9),
    DemoBooking(LUCAS, NGUYEN, 3, 15),
)


def demo_weekdays(today: date, days: int = DEMO_DAYS) -> list[date]:
    """Weekdays in the `days` days after `today` (today itself excluded: its hours may be over)."""
    candidates = (today + timedelta(days=n) for n in range(1, days + 1))
    return [d for d in candidates if d.weekday() < 5]


def demo_slot_times(today: date) -> list[tuple[str, datetime]]:
    """Every (provider, starts_at) the demo schedule opens, in time order."""
    slots = [
        (provider, datetime.combine(day, time(hour)))
        for day in demo_weekdays(today)
        for provider in DEMO_PROVIDERS
        if day.weekday() in _WEEKDAYS[provider]
        for hour in _HOURS[provider]
    ]
    return sorted(slots, key=lambda item: (item[1], item[0]))


def booking_time(booking: DemoBooking, today: date) -> datetime:
    return datetime.combine(demo_weekdays(today)[booking.weekday_index], time(booking.hour))


__all__ = [
    "DEMO_BOOKINGS",
    "DEMO_DAYS",
    "DEMO_PATIENTS",
    "DEMO_PROVIDERS",
    "JANE",
    "JOHN",
    "LUCAS",
    "MARIA",
    "NGUYEN",
    "NOT_ON_FILE_PHONE",
    "OKAFOR",
    "PATEL",
    "SHARED_PHONE",
    "DemoBooking",
    "DemoPatient",
    "booking_time",
    "demo_slot_times",
    "demo_weekdays",
]
