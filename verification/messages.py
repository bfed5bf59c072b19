"""What a code's text message and automated call say, in the call's language.

The words live in `verification/languages/<language>/messages.toml`, a folder of text per
language (a third language is a folder, no code); this module fills them in with the host's
name, the code and its lifetime, nothing else: no name, no appointment, no health
information (rule 7). A call says the digits one at a time, with a pause between them
(`digit_pause`), twice (`{spoken_code}` appears twice in `voice`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from .languages import read

Channel = Literal["sms", "call"]
CHANNELS: Final = ("sms", "call")


def code_message(
    channel: Channel, language: str, *, brand: str, code: str, ttl_seconds: int
) -> str:
    """The text (`channel="sms"`) or the words of the call (`"call"`) carrying `code`."""
    table = read(language, "messages")
    template = table["voice"] if channel == "call" else table["sms"]
    return str(template).format(
        brand=brand,
        code=code,
        spoken_code=str(table.get("digit_pause", ", ")).join(code),
        minutes=lifetime(table, ttl_seconds),
    )


def lifetime(table: Mapping[str, Any], seconds: int) -> str:
    """A code's lifetime in whole minutes, rounded up, as the language says it."""
    count = max(1, -(-seconds // 60))
    return str(table["one_minute"]) if count == 1 else str(table["minutes"]).format(count=count)
