"""What the code tools answer when they do not pass a request on to `OtpService`.

Each answer comes in two forms: `model`, the tool output (what happened, and the one next
step where one is needed), and `caller`, a sentence the caller can hear as it is (the speech
hook says it when the model's reply is only tool-call text). The service's own outcomes
already carry the caller's sentence (`outcome.message`). None of these holds a code or a
full phone number.
"""

from __future__ import annotations

from dataclasses import dataclass

from livekit.agents import ToolError

from verification.outcomes import UNAVAILABLE_MESSAGE

DEFAULT_STAFF_HINT = "Offer to connect the caller with a person."


@dataclass(frozen=True, slots=True)
class Reply:
    model: str
    caller: str
    #: the tool did what it was asked (a code sent, a phone verified); a refusal never did
    done: bool = False


class Refusal(ToolError):
    """A refused tool call: `message` for the model, `caller` for the caller."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.model)
        self.caller = reply.caller


SENDING_NOW = Reply(
    "A code is being sent right now. Wait for it before asking again.",
    "One moment, I'm sending your code.",
)
CHECKING_NOW = Reply(
    "A code is being checked right now. Wait for its answer before checking again.",
    "One moment, I'm checking your code.",
)
CALLER_NUMBER_UNKNOWN = Reply(
    "The caller's own number isn't known. Ask for the phone on file.",
    "Which phone number should I text the code to?",
)
KNOWN_NUMBER_UNKNOWN = Reply(
    "No number was given for this step. Ask the caller which number to text.",
    "Which phone number should I text the code to?",
)
NUMBER_NOT_SAID = Reply(
    "Nothing was sent: the caller hasn't said that number in this call. Ask them for the "
    'number to text, or use "caller" for the number they are calling from.',
    "Which phone number should I text the code to?",
)
NO_MORE_CODES = Reply(
    "No more codes can be sent on this call.",
    "I can't send any more codes on this call.",
)
ALREADY_VERIFIED = Reply(
    "The number {masked} is already verified in this call: no code is needed.",
    "Your number is already verified.",
    done=True,
)
NO_CODE_PENDING = Reply(
    "No code is pending on this call. Offer to text one (request_otp).",
    "Would you like me to text you a verification code?",
)
NOT_HEARD = Reply(
    "Nothing was checked: ask the caller to read the code from their text message aloud, or "
    "type it on the keypad.",
    "Could you read me the code from your text message, or type it on your keypad?",
)
ALREADY_CHECKED = Reply(
    "Nothing was checked: that code was already checked. Ask the caller to read the code "
    "again if they think it was misheard.",
    "Could you read me the code again, one digit at a time?",
)
GRANT_FAILED = Reply(
    f"{UNAVAILABLE_MESSAGE} Nothing was granted; the caller can ask for a new code.",
    UNAVAILABLE_MESSAGE,
)
