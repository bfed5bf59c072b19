"""Who may receive a code: the numbers on file."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class PhoneDirectory(Protocol):
    """Answers one question: is this E.164 number on a patient's record?

    Codes are texted only to numbers on file; `clinic.ClinicDB` implements this, and so can a
    practice-management system.
    """

    async def is_on_file(self, phone_e164: str) -> bool: ...
