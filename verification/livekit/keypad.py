"""Keypad (DTMF) digits to a code: the one rule for turning key presses into a guess.

Digits are collected until the code's length, or until `#` (so a short entry is still
answered, as malformed); `*` starts over. The digits live only in this buffer: never logged,
never in the chat, never sent to the model (LiveKit's `GetDtmfTask` puts them in the chat
context, which is why it is not used for codes).
"""

from __future__ import annotations

DIGITS = frozenset("0123456789")


class KeypadBuffer:
    """Collects one code at a time from key presses."""

    def __init__(self, length: int) -> None:
        self.length = length
        self._digits: list[str] = []

    def press(self, key: str) -> str | None:
        """Take one key; return the entry once it is complete (full length, or `#`)."""
        if key == "*":
            self._digits.clear()
        elif key == "#":
            return self._take()
        elif key in DIGITS:
            self._digits.append(key)
            if len(self._digits) >= self.length:
                return self._take()
        return None

    def clear(self) -> None:
        self._digits.clear()

    def _take(self) -> str:
        entry, self._digits = "".join(self._digits), []
        return entry
