"""The delivery seam: two protocols (a text, a call), one receipt, one error type.

Verification never cares which provider carried a code. Every text sender (console, Twilio,
AWS SNS, Vonage, failover) implements `SmsSender`, every call sender (console, Twilio)
`VoiceSender`, and both raise only `SmsDeliveryError`, whose `retryable` flag is what lets
`FailoverSmsSender` decide whether another provider may help.

The protocol asks for `send` alone. A sender that holds something (an HTTP session, a thread)
may also offer `aclose()`, the way httpx transports do; whoever closes a sender goes through
`close_sender`, which awaits `aclose()` when there is one and otherwise does nothing, so a
sender written to the published protocol works everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class SmsReceipt:
    """Proof a provider accepted a message: who took it and the id it gave it."""

    provider: str
    message_id: str


class SmsDeliveryError(Exception):
    """A provider did not accept a message.

    `retryable` says whether another attempt (here or at another provider) may succeed:
    throttling, timeouts, 5xx and carrier hiccups are retryable; an invalid or opted-out
    number is not. `reason` is a short sentence safe to repeat to the caller. The message
    text must never carry the code or the full phone number.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        retryable: bool,
        code: str | int | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.retryable = retryable
        self.code = code
        self.reason = reason or (
            "The text message service is having trouble right now."
            if retryable
            else "That number can't receive text messages from us."
        )

    def __repr__(self) -> str:
        return (
            f"SmsDeliveryError({str(self)!r}, provider={self.provider!r}, "
            f"retryable={self.retryable!r}, code={self.code!r})"
        )


@runtime_checkable
class SmsSender(Protocol):
    """Sends one text message. Implementations are async and never block the event loop.

    `aclose()` is optional: a sender that holds something (HTTP sessions, threads) offers it,
    and `close_sender` awaits it when there is one.
    """

    async def send(self, to: str, body: str) -> SmsReceipt:
        """Send `body` to the E.164 number `to`; raise `SmsDeliveryError` and nothing else."""
        ...


@runtime_checkable
class VoiceSender(Protocol):
    """Places one automated call that says a text, for a caller whose phone can't show texts.

    Same receipt and error as `SmsSender`: an invalid or unreachable number is not retryable;
    throttling, timeouts and 5xx are. `aclose()` is optional here too (`close_sender`).
    """

    async def send(self, to: str, body: str, *, language: str = "en") -> SmsReceipt:
        """Call the E.164 number `to` and say `body` in `language` (a language folder's code,
        e.g. "en", "es"); raise `SmsDeliveryError` and nothing else."""
        ...


async def close_sender(sender: object) -> None:
    """Release what `sender` holds: await its `aclose()` if it has one, else nothing to do.

    `aclose` is optional in the sender protocols (httpx-style), so nothing that closes a
    sender may call `sender.aclose()` directly.
    """
    aclose = getattr(sender, "aclose", None)
    if callable(aclose):
        await aclose()
