"""Reading what callers say: codes, numbers and dates, in every language we have a folder for.

Framework-free and pure. The words of each language live in
`verification/languages/<code>/numbers.toml`; a third language is a folder of text, no code.

* `parse_spoken_code(text, length=6)`: the digits of a code ("four oh two nine nine one",
  "cuatro cero dos nueve nueve uno") or `None`;
* `parse_spoken_date(text)`: a date ("April twelfth nineteen eighty five", "doce de abril de
  mil novecientos ochenta y cinco", "4/12/1985") or `None`; `read_date` raises a `ValueError`
  whose message can be read to the caller instead.
"""

from __future__ import annotations

from .codes import MAX_SPOKEN_CHARS, parse_spoken_code
from .dates import MAX_DATE_INPUT_CHARS, parse_spoken_date, read_date

__all__ = [
    "MAX_DATE_INPUT_CHARS",
    "MAX_SPOKEN_CHARS",
    "parse_spoken_code",
    "parse_spoken_date",
    "read_date",
]
