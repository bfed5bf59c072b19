"""How every SMS provider's failures become one `SmsDeliveryError`, logged the same way.

Each provider keeps its own table from its error codes to a `Verdict` (that table is what
differs between providers); turning a verdict into a log record and an error is shared here.
Messages carry the masked number and the provider's code, never the body or the full number.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from .base import SmsDeliveryError

# Caller-safe reasons for failures about the recipient (not retryable).
INVALID_NUMBER = "That number doesn't look like a mobile number we can text."
NOT_MOBILE = "That number can't receive text messages; it may be a landline."
UNREACHABLE = "That number can't receive text messages from us."
OPTED_OUT = "That number has opted out of text messages from us."
REGION_BLOCKED = "We can't send text messages to that country."


def missing_extra(provider: str, extra: str) -> str:
    """The one sentence for a provider whose SDK (an extra of the plugin) is not installed."""
    return f"SMS provider '{provider}' needs the '{extra}' extra: uv sync --extra {extra}"


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
) -> SmsDeliveryError:
    """The provider answered and said no. `hint` names what to check when we are at fault.
    Logged on the provider module's own logger (`log`), so operators can filter by provider."""
    log.log(
        logging.ERROR if verdict.misconfigured else logging.INFO,
        "%s refused SMS: HTTP %s, error %s%s",
        provider,
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
        f"{provider} refused the message to the number {masked}: HTTP {status}, error {code}",
        provider=provider,
        retryable=verdict.retryable,
        code=code if code is not None else status,
        reason=verdict.reason,
    )


def not_delivered(
    log: logging.Logger,
    provider: str,
    what: str,
    code: str,
    masked: str,
    *,
    misconfigured: bool = False,
) -> SmsDeliveryError:
    """The provider gave no usable answer (timeout, network, our setup): always retryable."""
    log.log(
        logging.ERROR if misconfigured else logging.INFO,
        "%s send failed: %s",
        provider,
        what,
        extra={
            "sms_provider": provider,
            "sms_to": masked,
            "sms_error_code": code,
            "sms_retryable": True,
        },
    )
    return SmsDeliveryError(
        f"{provider} could not take the message to the number {masked}: {what}",
        provider=provider,
        retryable=True,
        code=code,
    )


def not_sent(
    log: logging.Logger,
    provider: str,
    exc: BaseException,
    masked: str,
    *,
    timeout: float,
    network_errors: tuple[type[BaseException], ...],
) -> SmsDeliveryError:
    """Any other failure of a send attempt: our timeout, the network, or a surprise. The
    sender protocol promises `SmsDeliveryError` and nothing else, so everything lands here."""
    if isinstance(exc, TimeoutError):
        return not_delivered(log, provider, f"no answer within {timeout:g}s", "timeout", masked)
    if isinstance(exc, network_errors):
        what = f"connection failed ({type(exc).__name__})"
        return not_delivered(log, provider, what, "network", masked)
    return not_delivered(log, provider, f"unexpected {type(exc).__name__}", "error", masked)
