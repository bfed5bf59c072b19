"""How times and lists are said on the phone."""

from __future__ import annotations

from datetime import date, datetime


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def say_date(value: date) -> str:
    """ "Tuesday, December 1st"."""
    return f"{value:%A}, {value:%B} {_ordinal(value.day)}"


def say_time(value: datetime) -> str:
    """ "Tuesday, December 1st at 10 AM" / "... at 2:30 PM"."""
    hour = value.hour % 12 or 12
    minutes = f":{value.minute:02d}" if value.minute else ""
    return f"{say_date(value)} at {hour}{minutes} {'AM' if value.hour < 12 else 'PM'}"
