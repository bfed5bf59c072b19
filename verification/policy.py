"""The numbers that make a one-time code safe: lifetime, attempts, send and failure limits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OtpPolicy:
    """Limits for issuing and checking codes. Every window slides: at most the limit in any
    stretch of the window's length, however the events are spread.

    Caller ID is a hint an attacker can set, so it may narrow a lockout to the attacker's own
    calls, never widen one to the patient (rule 16):

    - Another caller's number has limits of its own under the phone's ceilings:
      `max_failures` wrong guesses on one phone in `failure_window_seconds` (a resend does
      not reset it; that caller's success does) and `max_sends` codes in
      `send_window_seconds`, at least `resend_cooldown_seconds` apart.
    - The phone's own caller ID, or a withheld one, counts only toward the phone's ceilings
      (an attacker who sets it must not use up the patient's allowance or lock out every
      withheld caller); its cooldown is its call's own.
    - The ceilings: `max_phone_failures` wrong guesses on one phone and `max_phone_sends`
      codes to it, from all callers together, never reset by a success.
    - The owner's reserve: past the ceilings, calls whose caller ID is the phone itself may
      still have `owner_reserve_sends` codes per send window and `owner_reserve_failures`
      wrong guesses per failure window, so a patient calling from their phone is not locked
      out by strangers using other numbers (spoofing the patient's own number reaches the
      reserve too: see docs/security.md).
    - `max_attempts` caps guesses on one code (one code per phone per call).

    An attacker's best odds per phone per failure window are `best_odds_per_phone` =
    (max_phone_failures + owner_reserve_failures) / 10**code_length: (97 + 3) / 10**6 =
    1e-4 by default, NIST SP 800-63B's ceiling, however many caller numbers they use.

    What the clinic spends (rule 18), answered the same for every caller:

    - `daily_send_budget`: codes (texts and calls) all phones together may be sent in any
      24 hours, charged for every request that would issue a code, decoys included, so a
      spent budget tells no one who is a patient. None: no cap; 0: sending is off.
    - `allowed_countries`: the ISO regions a code may go to ("US", "CA"); a number on file
      elsewhere is never texted and its caller hears what a stranger's number hears. None:
      any.
    """

    code_length: int = 6
    ttl_seconds: int = 300
    max_attempts: int = 3
    max_sends: int = 3
    send_window_seconds: int = 3600
    resend_cooldown_seconds: int = 30
    max_failures: int = 10
    failure_window_seconds: int = 86400
    max_phone_failures: int = 97
    max_phone_sends: int = 10
    owner_reserve_sends: int = 1
    owner_reserve_failures: int = 3
    daily_send_budget: int | None = None
    allowed_countries: frozenset[str] | None = None

    @property
    def best_odds_per_phone(self) -> float:
        """An attacker's best chance of guessing a code of one phone in one failure window,
        however many caller numbers they use (the owner's reserve included)."""
        guesses = self.max_phone_failures + self.owner_reserve_failures
        return float(guesses / 10**self.code_length)

    def __post_init__(self) -> None:
        if not 4 <= self.code_length <= 10:
            raise ValueError("code_length must be between 4 and 10")
        for name in (
            "ttl_seconds",
            "max_attempts",
            "max_sends",
            "send_window_seconds",
            "max_failures",
            "failure_window_seconds",
            "max_phone_failures",
            "max_phone_sends",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("resend_cooldown_seconds", "owner_reserve_sends", "owner_reserve_failures"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.daily_send_budget is not None and self.daily_send_budget < 0:
            raise ValueError("daily_send_budget must not be negative (0 switches sending off)")
        if self.allowed_countries is not None and not _regions(self.allowed_countries):
            raise ValueError("allowed_countries must be a frozenset of ISO regions ('US')")


def _regions(value: object) -> bool:
    return isinstance(value, frozenset) and all(
        isinstance(c, str) and len(c) == 2 and c.isalpha() and c.isupper() for c in value
    )


@dataclass(frozen=True, slots=True)
class KnowledgePolicy:
    """Limits for answers a caller can know without holding the phone (name, date of birth,
    phone on record), kept in the shared store like the code counters (rule 11).

    - `max_failures_per_record` caps wrong answers against one patient record from all
      calls, and `max_failures_per_caller` one caller number's wrong answers across records,
      each in any `window_seconds` (windows slide; redialling resets neither).
    - `max_failures_per_proven_phone` caps wrong answers about one record from callers who
      proved, with a code in their call, a phone on that record (a shared family phone):
      they are counted apart from the record counter strangers can fill (issue 15.3).
    - `max_records_per_name`: the most records one answer may be charged to. A name that
      matches more records than that closes the knowledge route for that name: no record
      is answered unless it was charged for that answer (issue 15.2; the front end applies
      it, `IdentityThrottle` charges what it is handed).
    """

    max_failures_per_record: int = 3
    max_failures_per_caller: int = 5
    window_seconds: int = 86400
    max_records_per_name: int = 10
    max_failures_per_proven_phone: int = 3

    def __post_init__(self) -> None:
        for name in (
            "max_failures_per_record",
            "max_failures_per_caller",
            "window_seconds",
            "max_records_per_name",
            "max_failures_per_proven_phone",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
