"""The numbers that make a one-time code safe: lifetime, attempts, send and failure limits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OtpPolicy:
    """Limits for issuing and checking codes.

    Limits are kept per phone *and caller* (the caller's own number, or one shared
    "anonymous" caller for withheld ids), under per-phone ceilings, so a stranger's calls use
    up the stranger's allowance first and never the patient's for long (rule 12):

    - `max_attempts` caps guesses on one code (one code per phone per call).
    - `max_failures` caps one caller's wrong guesses on one phone across codes in
      `failure_window_seconds` (a resend does not reset it; that caller's success does).
    - `max_phone_failures` caps every caller's wrong guesses on one phone in the same window
      and is never reset by a success, so an attacker's best odds per phone per window are
      at most `best_odds_per_phone` = max_phone_failures / 10**code_length (1e-4 by default,
      NIST SP 800-63B's ceiling).
    - `max_sends` caps codes per phone and caller in `send_window_seconds`, at least
      `resend_cooldown_seconds` apart; `max_phone_sends` caps codes per phone from all
      callers in the same window (so a phone is texted at most that often).
    """

    code_length: int = 6
    ttl_seconds: int = 300
    max_attempts: int = 3
    max_sends: int = 3
    send_window_seconds: int = 3600
    resend_cooldown_seconds: int = 30
    max_failures: int = 10
    failure_window_seconds: int = 86400
    max_phone_failures: int = 100
    max_phone_sends: int = 10

    @property
    def best_odds_per_phone(self) -> float:
        """An attacker's best chance of guessing a code of one phone in one failure window,
        however many caller numbers they use."""
        return float(self.max_phone_failures / 10**self.code_length)

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
        if self.resend_cooldown_seconds < 0:
            raise ValueError("resend_cooldown_seconds must not be negative")


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
