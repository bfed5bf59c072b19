"""How every provider's failures become one `SmsDeliveryError`, logged the same way.

Each provider keeps its own table from its error codes to a `Verdict` (that table is what
differs between providers); turning a verdict into a log record and an error is shared here,
for text messages and automated calls alike (`kind`). Messages carry the masked number and
the provider's code, never the body or the full number.
"""

from __future__ import annotations

import logging
from typing import Literal, NamedTuple

from .base import SmsDeliveryError

# Caller-safe reasons for failures about the recipient (not retryable).
INVALID_NUMBER = "That number doesn't look like a mobile number we can text."
NOT_MOBILE = "That number can't receive text messages; it may be a landline."
UNREACHABLE = "That number can't receive text messages from us."
OPTED_OUT = "That number has opted out of text messages from us."
REGION_BLOCKED = "We can't send text messages to that country."
# ... and for automated calls.
CALL_INVALID_NUMBER = "That number doesn't look like a phone number we can call."
CALL_UNREACHABLE = "We can't place a call to that number."
CALL_REGION_BLOCKED = "We can't place calls to that country."
CALL_TROUBLE = "The calling service is having trouble right now."

Kind = Literal["SMS", "call"]
_WHAT: dict[Kind, str] = {"SMS": "the message", "call": "the call"}


def _reason(kind: Kind, retryable: bool, reason: str | None) -> str | None:
    """The caller-safe sentence; None leaves `SmsDeliveryError`'s own (about texts)."""
    if reason is not None or kind == "SMS":
        return reason
    return CALL_TROUBLE if retryable else CALL_UNREACHABLE


def missing_extra(provider: str, extra: str, *, channel: str = "SMS") -> str:
    """The one sentence for a provider whose SDK (an extra of the plugin) is not installed."""
    return f"{channel} provider '{provider}' needs the '{extra}' extra: uv sync --extra {extra}"


class Verdict(NamedTuple):
    """How to treat one provider error: may another try help, what to tell the caller."""

    retryable: bool
    reason: str | None = None  # None: SmsDeliveryError's default sentence
    misconfigured: bool = False  # our account or credentials are wrong: log at ERROR


def refused(
    log: logging.Logger,
    provider: str,
    verdict: Verdict,
    masked: str,
    *,
    status: int | None,
    code: str | int | None,
    hint: str,
    kind: Kind = "SMS",
) -> SmsDeliveryError:
    """The provider answered and said no. `hint` names what to check when we are at fault.
    Logged on the provider module's own logger (`log`), so operators can filter by provider."""
    log.log(
        logging.ERROR if verdict.misconfigured else logging.INFO,
        "%s refused %s: HTTP %s, error %s%s",
        provider,
        kind,
        status,
        code,
        f" (check {hint})" if verdict.misconfigured else "",
        extra={
            "sms_provider": provider,
            "sms_to": masked,
            "sms_status": status,
            "sms_error_code": code,
            "sms_retryable": verdict.retryable,
        },
    )
    return SmsDeliveryError(
        f"{provider} refused {_WHAT[kind]} to the number {masked}: HTTP {status}, error {code}",
        provider=provider,
        retryable=verdict.retryable,
        code=code if code is not None else status,
        reason=_reason(kind, verdict.retryable, verdict.reason),
    )


def not_delivered(
    log: logging.Logger,
    provider: str,
    what: str,
    code: str,
    masked: str,
    *,
    misconfigured: bool = False,
    kind: Kind = "SMS",
) -> SmsDeliveryError:
    """The provider gave no usable answer (timeout, network, our setup): always retryable."""
    log.log(
        logging.ERROR if misconfigured else logging.INFO,
        "%s %s failed: %s",
        provider,
        "send" if kind == "SMS" else kind,
        what,
        extra={
            "sms_provider": provider,
            "sms_to": masked,
            "sms_error_code": code,
            "sms_retryable": True,
        },
    )
    return SmsDeliveryError(
        f"{provider} could not take {_WHAT[kind]} to the number {masked}: {what}",
        provider=provider,
        retryable=True,
        code=code,
        reason=_reason(kind, True, None),
    )


def not_sent(
    log: logging.Logger,
    provider: str,
    exc: BaseException,
    masked: str,
    *,
    timeout: float,
    network_errors: tuple[type[BaseException], ...],
    kind: Kind = "SMS",
) -> SmsDeliveryError:
    """Any other failure of a send attempt: our timeout, the network, or a surprise. The
    sender protocol promises `SmsDeliveryError` and nothing else, so everything lands here."""
    if isinstance(exc, TimeoutError):
        what, code = f"no answer within {timeout:g}s", "timeout"
    elif isinstance(exc, network_errors):
        what, code = f"connection failed ({type(exc).__name__})", "network"
    else:
        what, code = f"unexpected {type(exc).__name__}", "error"
    return not_delivered(log, provider, what, code, masked, kind=kind)
