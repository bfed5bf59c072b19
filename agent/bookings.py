"""How many new appointments a patient may get by phone: a bound kept across calls.

A caller at Level 1 (name and date of birth) may book. Without a bound, one such caller could
fill a provider's week for a patient, call after call. Each booking takes one place from the
patient's daily allowance in the shared code store (the same atomic counters the identity
throttle uses, so every call and process sees them); a booking the records refuse gives its
place back. The store holds a hash of the patient id, not the id.
"""

from __future__ import annotations

import hashlib

from verification import OtpStore

BOOKING_WINDOW_SECONDS = 86400


def _subject(patient_id: str) -> str:
    tag = hashlib.sha256(f"booking\x1f{patient_id}".encode()).hexdigest()[:24]
    return f"booking:{tag}"


class PatientBookings:
    """At most `limit` new bookings per patient per `window_seconds`, across all calls."""

    def __init__(
        self, store: OtpStore, limit: int, window_seconds: int = BOOKING_WINDOW_SECONDS
    ) -> None:
        self.store = store
        self.limit = limit
        self.window_seconds = window_seconds

    async def take(self, patient_id: str) -> bool:
        """Reserve one booking for this patient; False when the allowance is used up.
        Raises `StoreUnavailable` when the store cannot be reached."""
        wait = await self.store.take([(_subject(patient_id), self.limit)], self.window_seconds)
        return wait is None

    async def give_back(self, patient_id: str) -> None:
        """The booking did not happen: return its place."""
        await self.store.give_back([_subject(patient_id)])
