"""The clinic's wall clock: naive local time in the zone named by `CLINIC_TIMEZONE`.

Appointments are said on the phone in the clinic's local time, so the records store and compare
naive clinic-local `datetime`s; "now" must be in that same zone, whatever zone the server runs in.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Clock = Callable[[], datetime]


def clinic_clock(timezone: str | None = None) -> Clock:
    """A clock giving naive clinic-local time; `timezone` defaults to env `CLINIC_TIMEZONE`."""
    name = (timezone if timezone is not None else os.environ.get("CLINIC_TIMEZONE", "")).strip()
    if not name:
        return lambda: datetime.now().replace(microsecond=0)
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"CLINIC_TIMEZONE {name!r} is not a known time zone (e.g. America/New_York)"
        ) from exc
    return lambda: datetime.now(zone).replace(tzinfo=None, microsecond=0)


__all__ = ["Clock", "clinic_clock"]
