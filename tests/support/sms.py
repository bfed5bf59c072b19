"""An in-memory SMS sender for service-level tests: it keeps what it was asked to send.

The real providers are tested over HTTP against local stand-ins in tests/sms; here only the
verification logic is under test, so the sender just records messages (and can be told to
fail) so a test can read the code a patient would have received.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from verification import SmsDeliveryError, SmsReceipt


class RecordingSmsSender:
    provider = "recording"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail_with: SmsDeliveryError | None = None

    async def send(self, to: str, body: str) -> SmsReceipt:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append((to, body))
        return SmsReceipt(provider=self.provider, message_id=f"rec-{len(self.sent)}")

    async def aclose(self) -> None:
        """Nothing to release (the `SmsSender` protocol asks every sender for `aclose`)."""

    def last_code(self, length: int = 6) -> str:
        match = re.search(rf"\b(\d{{{length}}})\b", self.sent[-1][1])
        assert match, "no code in the last message"
        return match.group(1)


def codes_in(bodies: Iterable[str], length: int = 6) -> set[str]:
    """Every code in these text messages, whatever their language."""
    return {code for body in bodies for code in re.findall(rf"\b\d{{{length}}}\b", body)}


class StaticDirectory:
    """A `PhoneDirectory` over a fixed set of E.164 numbers."""

    def __init__(self, numbers: set[str]) -> None:
        self.numbers = numbers

    async def is_on_file(self, phone_e164: str) -> bool:
        return phone_e164 in self.numbers
