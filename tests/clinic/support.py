"""Helpers shared by the clinic tests (a module, not a conftest, so tests can import it)."""

from __future__ import annotations

from datetime import datetime, timedelta

# A Monday morning, well in the future so every "future" check is about our clock, not the
# real one (the cross-process race test, in other processes, uses the real clock instead).
START = datetime(2030, 1, 7, 8, 0)


class FakeClock:
    """Clinic-local "now" that tests move by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)
