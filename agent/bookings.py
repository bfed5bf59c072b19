"""How many new appointments a patient may get by phone: a bound kept across calls.

A caller at Level 1 (name and date of birth) may book. Without a bound, one such caller could
fill a provider's week for a patient, call after call. Each booking takes one place from the
patient's daily allowance in the shared store (the OTP service's keyed counters: every call
and process sees them, and the store holds a keyed hash of the patient id, not the id); a
booking the records refuse gives its place back.
"""

from __future__ import annotations

from verification import KeyedCounters

BOOKING_WINDOW_SECONDS = 86400


class PatientBookings:
    """At most `limit` new bookings per patient per `window_seconds`, across all calls."""

    def __init__(
        self, counters: KeyedCounters, limit: int, window_seconds: int = BOOKING_WINDOW_SECONDS
    ) -> None:
        self.counters = counters
        self.limit = limit
        self.window_seconds = window_seconds

    async def take(self, patient_id: str) -> bool:
        """Reserve one booking for this patient; False when the allowance is used up.
        Raises `StoreUnavailable` when the store cannot be reached."""
        booking = self.counters.subject("booking", patient_id)
        return await self.counters.take([(booking, self.limit)], self.window_seconds) is None

    async def give_back(self, patient_id: str) -> None:
        """The booking did not happen: return its place."""
        await self.counters.give_back([self.counters.subject("booking", patient_id)])
