"""An in-memory voice sender for service tests: it keeps what each automated call would say.

Delivery tests `TwilioVoiceSender` over HTTP against the Twilio stand-in (tests/sms); here
only what the service hands a call is under test, so the sender records the number, the
words and the language, and can be told to fail.
"""

from __future__ import annotations

import re

from verification import SmsDeliveryError, SmsReceipt


class RecordingVoiceSender:
    """`VoiceSender` (send only: `aclose` is optional) that records its calls."""

    provider = "recording-voice"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []  # (to, words, language)
        self.fail_with: SmsDeliveryError | None = None

    async def send(self, to: str, body: str, *, language: str = "en") -> SmsReceipt:
        if self.fail_with is not None:
            raise self.fail_with
        self.calls.append((to, body, language))
        return SmsReceipt(provider=self.provider, message_id=f"call-{len(self.calls)}")

    def last_code(self, length: int = 6) -> str:
        """The code the last call said, read back from its digits ("4, 0, 2, ...")."""
        said = re.findall(rf"\d(?:, \d){{{length - 1}}}", self.calls[-1][1])
        assert len(said) == 2 and said[0] == said[1], "a call says the code twice"
        return str(said[0]).replace(", ", "")
