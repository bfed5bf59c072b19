"""A development stand-in for SMS: the message is printed where the developer is looking.

Used when no provider is configured (the embedded setup). It writes to stderr, not to a
logger, so codes never land in log files or log shipping; `OtpService.from_env` refuses it
in `APP_ENV=production`.
"""

from __future__ import annotations

import itertools
import sys
from typing import TextIO

from ..phone import mask_phone
from .base import SmsReceipt

_BANNER = "[DEV SMS - not sent; development stand-in]"


class ConsoleSmsSender:
    """Prints each message with a clear development banner instead of sending it."""

    provider = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._ids = itertools.count(1)

    async def send(self, to: str, body: str) -> SmsReceipt:
        stream = self._stream if self._stream is not None else sys.stderr
        message_id = f"console-{next(self._ids)}"
        stream.write(f"\n{_BANNER} to the number {mask_phone(to)}:\n    {body}\n\n")
        stream.flush()
        return SmsReceipt(provider=self.provider, message_id=message_id)

    async def aclose(self) -> None:
        """Nothing to release: the stream is not ours to close."""
