"""What a request or a guess came to, with a sentence the agent can say as it is.

The sentences never depend on whether a number is on file (rule 6) and never contain a code
(rule 7). They are the only place the caller-facing wording of verification lives. Each
outcome also says what a front end needs to know next (`code_pending`, `phone_e164`,
`code_spent`), so no front end keeps its own list of statuses or re-normalises numbers.

"unavailable" has three sentences: the store or directory cannot be reached
(`UNAVAILABLE_MESSAGE`), the clinic's daily send budget is spent (`SENDING_PAUSED_MESSAGE`),
or a call was asked for where no voice sender is configured (`CALLS_UNAVAILABLE_MESSAGE`);
each is the same for every caller.

"delivery_failed" stays in `RequestStatus` for the public contract, but `request_code` never
returns it: the text goes out in the background once the challenge is stored (rule 13), and a
failed send reaches the audit log and metrics, never the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from .messages import lifetime

RequestStatus = Literal[
    "sent", "invalid_phone", "locked", "cooldown", "rate_limited", "delivery_failed", "unavailable"
]
VerifyStatus = Literal[
    "verified", "wrong_code", "expired", "no_code", "locked", "malformed", "unavailable"
]

# the words `minutes` says a duration with, as a language's messages.toml gives them
_ENGLISH_MINUTES: Final = {"one_minute": "1 minute", "minutes": "{count} minutes"}

LOCKED_MESSAGE = (
    "For your security, code verification is locked for this number after too many "
    "incorrect codes. I can transfer you to our staff."
)
UNAVAILABLE_MESSAGE = (
    "Our verification system isn't available right now. I can transfer you to our staff, "
    "or verify you another way."
)
#: the clinic's daily send budget is spent (or sending is switched off): the same for every
#: caller, patient or not
SENDING_PAUSED_MESSAGE = (
    "I can't send a verification code right now. I can transfer you to our staff, "
    "or verify you another way."
)
#: codes by automated call are not offered here: the same for every caller, nothing counted
CALLS_UNAVAILABLE_MESSAGE = (
    "I can't call you with a code here. I can text the code to the number instead, "
    "or transfer you to our staff."
)


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """The result of asking for a code. `message` is safe to say to the caller."""

    status: RequestStatus
    message: str
    masked_phone: str | None = None
    retry_after_seconds: int | None = None
    #: a live code of this session now exists for `phone_e164` ("sent", or "cooldown" while
    #: this call's own code is still live)
    code_pending: bool = False
    #: the number the request was about, normalised (None for "invalid_phone")
    phone_e164: str | None = None
    #: how the code goes out: "sms" (a text) or "call" (an automated call)
    channel: str = "sms"

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

    @property
    def code_spent(self) -> bool:
        """No live code is left to guess for this session: verified, burned by the last
        attempt, expired, none to begin with, or locked. ("malformed" and "unavailable"
        decide nothing, so a code that was live stays live.)"""
        if self.status == "wrong_code":
            return not self.attempts_left
        return self.status in ("verified", "expired", "no_code", "locked")


def minutes(seconds: int) -> str:
    """A duration as it is said: "1 minute", "5 minutes" (rounded up, as a code's text says
    its lifetime)."""
    return lifetime(_ENGLISH_MINUTES, seconds)


def _seconds(seconds: int) -> str:
    return "1 second" if seconds == 1 else f"{seconds} seconds"


def sent(
    masked_phone: str, phone_e164: str, code_length: int, ttl_seconds: int, channel: str = "sms"
) -> RequestOutcome:
    if channel == "call":
        message = (
            f"I'm calling the number {masked_phone} now; the call will say a {code_length}-digit "
            f"code. It expires in {minutes(ttl_seconds)}."
        )
    else:
        message = (
            f"I've texted a {code_length}-digit code to the number {masked_phone}. "
            f"It expires in {minutes(ttl_seconds)}."
        )
    return RequestOutcome(
        "sent", message, masked_phone, code_pending=True, phone_e164=phone_e164, channel=channel
    )


def invalid_phone() -> RequestOutcome:
    return RequestOutcome(
        "invalid_phone",
        "That doesn't sound like a valid phone number. Could you say it again, "
        "including the area code?",
    )


def request_refused(
    status: Literal["locked", "cooldown", "rate_limited"],
    masked_phone: str,
    phone_e164: str,
    retry_after: int,
    *,
    code_pending: bool = False,
    channel: str = "sms",
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
    return RequestOutcome(
        status,
        message,
        masked_phone,
        retry_after,
        code_pending=code_pending and status != "locked",
        phone_e164=phone_e164,
        channel=channel,
    )


def request_unavailable(
    masked_phone: str | None = None,
    phone_e164: str | None = None,
    channel: str = "sms",
    *,
    message: str = UNAVAILABLE_MESSAGE,
) -> RequestOutcome:
    """No code now, whoever is asking: `message` says why (the store or directory is down,
    `SENDING_PAUSED_MESSAGE`, `CALLS_UNAVAILABLE_MESSAGE`)."""
    return RequestOutcome(
        "unavailable", message, masked_phone, phone_e164=phone_e164, channel=channel
    )


VERIFIED = VerifyOutcome("verified", "Thank you, that code is correct. You're verified.")
EXPIRED = VerifyOutcome("expired", "That code has expired. I can text you a new one.")
NO_CODE = VerifyOutcome(
    "no_code", "There's no active code for this call. I can text you a new one."
)


def wrong_code(attempts_left: int) -> VerifyOutcome:
    cached = _WRONG_CODE.get(attempts_left)
    if cached is not None:
        return cached
    return _wrong_code(attempts_left)


def _wrong_code(attempts_left: int) -> VerifyOutcome:
    if attempts_left <= 0:
        message = "That code isn't right, and it can't be used any more. I can text you a new code."
    elif attempts_left == 1:
        message = "That code isn't right. You have 1 more try."
    else:
        message = f"That code isn't right. You have {attempts_left} more tries."
    return VerifyOutcome("wrong_code", message, attempts_left)


def verify_locked(retry_after: int | None) -> VerifyOutcome:
    return VerifyOutcome("locked", LOCKED_MESSAGE, 0, retry_after)


def malformed(code_length: int) -> VerifyOutcome:
    return VerifyOutcome(
        "malformed",
        f"I didn't catch a {code_length}-digit code. Could you say the digits one at a time?",
    )


def verify_unavailable() -> VerifyOutcome:
    return VerifyOutcome("unavailable", UNAVAILABLE_MESSAGE)


# outcomes are frozen, so the common ones are built once (a guess costs no string formatting)
_WRONG_CODE = {left: _wrong_code(left) for left in range(0, 11)}
