"""Dates as callers say them: `parse_date` is `verification.spoken.read_date`.

The rules (ISO, US month-first numerals, a month name with a day and a four-digit year in
any order, as numerals or as words of any language in `verification/languages/`) live with
the other readers of what callers say, so the clinic's records and the plugin's "did the
caller say this date" check read a date the same way. Every failure is a `ValueError`
whose message can be read to the caller.
"""

from __future__ import annotations

from verification.spoken import MAX_DATE_INPUT_CHARS
from verification.spoken import read_date as parse_date

__all__ = ["MAX_DATE_INPUT_CHARS", "parse_date"]
