"""A code by automated call: Twilio's Calls API with inline TwiML `<Say>`, in the call's language.

For a patient whose number on file can't show a text (a landline, a phone held to the ear
during the call), the service renders the code's text in the call's language with the digits
spaced out ("4, 0, 2, ...") and said twice; this sender has Twilio call the number and say
it, sentence by sentence with a pause between, in the language folder's `speech_tag`
(`verification/languages/<code>/messages.toml`) and a voice that speaks it.

The SDK (the `twilio` extra) is reached through `twilio_http`, as for texts. Failures become
one `SmsDeliveryError` by the same rules as the SMS verdicts: an invalid or unreachable number
stops; throttling, timeouts and 5xx are retryable; our account's mistakes are logged at ERROR.
Twilio's error text quotes the number and the TwiML carries the code, so neither is logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Final

from ..languages import read
from ..phone import mask_phone
from .base import SmsReceipt
from .errors import (
    CALL_INVALID_NUMBER,
    CALL_REGION_BLOCKED,
    CALL_UNREACHABLE,
    Verdict,
)
from .twilio import TwilioAccount, table_verdict

logger = logging.getLogger(__name__)

# How long the phone rings before Twilio gives up, and the longest a code call may last.
RING_SECONDS: Final = 30
TIME_LIMIT_SECONDS: Final = 120
# Silence before the first sentence (the callee brings the phone to their ear) and after each.
PAUSE_SECONDS: Final = 1
# Voices for the speech tags our language folders use. Any other tag gets Google's standard
# voice for that tag, which Twilio offers for most languages, so a new language folder needs
# no code here.
VOICES: Final[Mapping[str, str]] = {"en-US": "Polly.Joanna", "es-US": "Polly.Lupe"}

# Twilio errors on creating a call that are about the number called: no retry will help.
_RECIPIENT_ERRORS: Final[Mapping[int, str]] = {
    21211: CALL_INVALID_NUMBER,  # invalid 'To' number
    21217: CALL_INVALID_NUMBER,  # phone number does not appear to be valid
    21214: CALL_UNREACHABLE,  # 'To' number cannot be reached
    21215: CALL_REGION_BLOCKED,  # geo permissions do not allow calling that country
    21216: CALL_UNREACHABLE,  # calls to that number are blocked (high-risk or blocklisted)
}
# Our account is wrong: credentials, a 'From' that is not a voice-capable number of ours,
# a trial account calling an unverified number.
_ACCOUNT_ERRORS: Final = frozenset({20003, 20005, 20404, 21210, 21212, 21219})
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def call_error_verdict(status: int | None, code: int | None) -> Verdict:
    """Map a Twilio HTTP status and error code on a call to a verdict (same shape as texts)."""
    return table_verdict(status, code, _RECIPIENT_ERRORS, _ACCOUNT_ERRORS)


def voice_for(speech_tag: str) -> str:
    """The `<Say voice>` for a BCP-47 speech tag."""
    return VOICES.get(speech_tag) or f"Google.{speech_tag}-Standard-A"


class TwilioVoiceSender(TwilioAccount):
    """Places a call that says a text, with Twilio's Calls API and the SDK's async client.

    `from_number` is a voice-capable Twilio number of the account (it is what the patient's
    phone shows). `timeout` bounds the API request that places the call, not the call.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        base_url: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        if not from_number:
            raise ValueError("Twilio needs a voice-capable number to call from")
        super().__init__(account_sid, auth_token, base_url, timeout)
        self._from_number = from_number

    def twiml(self, body: str, language: str) -> str:
        """The TwiML a call in `language` says `body` with."""
        from .twilio_http import say_twiml

        tag = str(read(language, "messages").get("speech_tag") or "en-US")
        sentences = [part for part in _SENTENCE_END.split(body.strip()) if part]
        return say_twiml(sentences, language=tag, voice=voice_for(tag), pause_seconds=PAUSE_SECONDS)

    async def send(self, to: str, body: str, *, language: str = "en") -> SmsReceipt:
        """Call `to` and say `body`; raise `SmsDeliveryError` (never the SDK's exceptions)."""
        return await self._create(
            lambda client: client.calls.create_async(
                to=to,
                from_=self._from_number,
                twiml=self.twiml(body, language),
                timeout=RING_SECONDS,
                time_limit=TIME_LIMIT_SECONDS,
            ),
            mask_phone(to),
            log=logger,
            verdict=call_error_verdict,
            hint=lambda _code: "the Twilio credentials and the voice number",
            kind="call",
            accepted="twilio placed call",
        )
