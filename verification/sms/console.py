"""Development stand-ins for SMS and calls: printed where the developer is looking.

Used when no provider is configured (the embedded setup). They write to stderr, not to a
logger, so codes never land in log files or log shipping; the settings refuse them in
`APP_ENV=production`.
"""

from __future__ import annotations

import itertools
import sys
from typing import TextIO

from ..languages import language_or_default
from ..phone import mask_phone
from .base import SmsReceipt

_BANNER = "[DEV SMS - not sent; development stand-in]"
_CALL_BANNER = "[DEV CALL - not placed; development stand-in]"


class _Console:
    """Writes a bannered block to `stream` (stderr by default) and numbers what it wrote."""

    provider = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._ids = itertools.count(1)

    def _print(self, banner: str, to: str, body: str) -> int:
        stream = self._stream if self._stream is not None else sys.stderr
        stream.write(f"\n{banner} to the number {mask_phone(to)}:\n    {body}\n\n")
        stream.flush()
        return next(self._ids)


class ConsoleSmsSender(_Console):
    """Prints each message with a clear development banner instead of sending it."""

    async def send(self, to: str, body: str) -> SmsReceipt:
        number = self._print(_BANNER, to, body)
        return SmsReceipt(provider=self.provider, message_id=f"console-{number}")


class ConsoleVoiceSender(_Console):
    """Prints what an automated call would say, with a clear banner, instead of calling."""

    async def send(self, to: str, body: str, *, language: str = "en") -> SmsReceipt:
        banner = f"{_CALL_BANNER} in {language_or_default(language)}"
        number = self._print(banner, to, body)
        return SmsReceipt(provider=self.provider, message_id=f"console-call-{number}")
