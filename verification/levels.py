"""How sure we are of who is calling."""

from __future__ import annotations

from enum import IntEnum


class VerificationLevel(IntEnum):
    """Identity assurance for a caller, ordered so `level >= LEVEL_1` reads naturally.

    LEVEL_1 (name + date of birth) lets a caller hear and book appointments. LEVEL_2 (a code
    texted to the number on file, or name + date of birth + phone where the clinic allows it)
    is needed to cancel or reschedule.
    """

    NONE = 0
    LEVEL_1 = 1
    LEVEL_2 = 2
