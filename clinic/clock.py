"""The clinic's wall clock: naive local time in the clinic's time zone.

Appointments are said on the phone in the clinic's local time, so the records store and compare
naive clinic-local `datetime`s; "now" must be in that same zone, whatever zone the server runs in.
The zone comes from `clinic.settings.ClinicSettings` (`CLINIC_TIMEZONE`, checked at start);
this module reads no environment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Clock = Callable[[], datetime]


def time_zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; `ValueError` (naming `CLINIC_TIMEZONE`) if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"CLINIC_TIMEZONE {name!r} is not a known time zone (e.g. America/New_York)"
        ) from exc


def clinic_clock(timezone: str | None = None) -> Clock:
    """A clock giving naive clinic-local time in `timezone` (None or blank: the machine's)."""
    name = (timezone or "").strip()
    if not name:
        return lambda: datetime.now().replace(microsecond=0)
    zone = time_zone(name)
    return lambda: datetime.now(zone).replace(tzinfo=None, microsecond=0)


__all__ = ["Clock", "clinic_clock", "time_zone"]
