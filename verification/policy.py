"""The numbers that make a one-time code safe: lifetime, attempts, send and failure limits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OtpPolicy:
    """Limits for issuing and checking codes.

    `max_attempts` caps guesses on one code; `max_failures` caps wrong guesses on one phone
    across codes in `failure_window_seconds` (a resend does not reset it, a success does).
    `max_sends` caps codes per phone in `send_window_seconds`, at least
    `resend_cooldown_seconds` apart.
    """

    code_length: int = 6
    ttl_seconds: int = 300
    max_attempts: int = 3
    max_sends: int = 3
    send_window_seconds: int = 3600
    resend_cooldown_seconds: int = 30
    max_failures: int = 10
    failure_window_seconds: int = 86400

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
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.resend_cooldown_seconds < 0:
            raise ValueError("resend_cooldown_seconds must not be negative")
