"""What a request or a guess came to, with a sentence the agent can say as it is.

The sentences never depend on whether a number is on file (rule 6) and never contain a code
(rule 7). They are the only place the caller-facing wording of verification lives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RequestStatus = Literal[
    "sent", "invalid_phone", "locked", "cooldown", "rate_limited", "delivery_failed", "unavailable"
]
VerifyStatus = Literal[
    "verified", "wrong_code", "expired", "no_code", "locked", "malformed", "unavailable"
]

LOCKED_MESSAGE = (
    "For your security, code verification is locked for this number after too many "
    "incorrect codes. I can transfer you to our staff."
)
UNAVAILABLE_MESSAGE = (
    "Our verification system isn't available right now. I can transfer you to our staff, "
    "or verify you another way."
)


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """The result of asking for a code. `message` is safe to say to the caller."""

    status: RequestStatus
    message: str
    masked_phone: str | None = None
    retry_after_seconds: int | None = None

    @property
    def sent(self) -> bool:
        return self.status == "sent"


@dataclass(frozen=True, slots=True)
class VerifyOutcome:
    """The result of one guess. `verified` is true only for status "verified"."""

    status: VerifyStatus
    message: str
    attempts_left: int | None = None
    retry_after_seconds: int | None = None

    @property
    def verified(self) -> bool:
        return self.status == "verified"


def minutes(seconds: int) -> str:
    """A duration as it is said: "1 minute", "5 minutes" (rounded up)."""
    minutes = max(1, -(-seconds // 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _seconds(seconds: int) -> str:
    return "1 second" if seconds == 1 else f"{seconds} seconds"


def sent(masked_phone: str, code_length: int, ttl_seconds: int) -> RequestOutcome:
    return RequestOutcome(
        "sent",
        f"I've texted a {code_length}-digit code to the number {masked_phone}. "
        f"It expires in {minutes(ttl_seconds)}.",
        masked_phone,
    )


def invalid_phone() -> RequestOutcome:
    return RequestOutcome(
        "invalid_phone",
        "That doesn't sound like a valid phone number. Could you say it again, "
        "including the area code?",
    )


def request_refused(
    status: Literal["locked", "cooldown", "rate_limited"], masked_phone: str, retry_after: int
) -> RequestOutcome:
    if status == "locked":
        message = LOCKED_MESSAGE
    elif status == "cooldown":
        message = (
            f"A code was just sent to the number {masked_phone}. Please check your messages, "
            f"or ask again in {_seconds(retry_after)} for a new one."
        )
    else:
        message = (
            f"We've sent as many codes as we can to that number for now. Please try again in "
            f"{minutes(retry_after)}, or I can transfer you to our staff."
        )
    return RequestOutcome(status, message, masked_phone, retry_after)


def delivery_failed(masked_phone: str, reason: str) -> RequestOutcome:
    return RequestOutcome(
        "delivery_failed",
        f"I couldn't send the text message. {reason} I can try again in a moment, verify you "
        "another way, or transfer you to our staff.",
        masked_phone,
    )


def request_unavailable(masked_phone: str | None = None) -> RequestOutcome:
    return RequestOutcome("unavailable", UNAVAILABLE_MESSAGE, masked_phone)


def verified() -> VerifyOutcome:
    return VerifyOutcome("verified", "Thank you, that code is correct. You're verified.")


def wrong_code(attempts_left: int) -> VerifyOutcome:
    if attempts_left <= 0:
        message = "That code isn't right, and it can't be used any more. I can text you a new code."
    elif attempts_left == 1:
        message = "That code isn't right. You have 1 more try."
    else:
        message = f"That code isn't right. You have {attempts_left} more tries."
    return VerifyOutcome("wrong_code", message, attempts_left)


def expired() -> VerifyOutcome:
    return VerifyOutcome("expired", "That code has expired. I can text you a new one.")


def no_code() -> VerifyOutcome:
    return VerifyOutcome(
        "no_code", "There's no active code for this call. I can text you a new one."
    )


def verify_locked(retry_after: int | None) -> VerifyOutcome:
    return VerifyOutcome("locked", LOCKED_MESSAGE, 0, retry_after)


def malformed(code_length: int) -> VerifyOutcome:
    return VerifyOutcome(
        "malformed",
        f"I didn't catch a {code_length}-digit code. Could you say the digits one at a time?",
    )


def verify_unavailable() -> VerifyOutcome:
    return VerifyOutcome("unavailable", UNAVAILABLE_MESSAGE)
