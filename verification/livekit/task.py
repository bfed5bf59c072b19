"""VerifyPhoneTask: proving a phone as one self-contained step, for hosts that want one.

LiveKit's prebuilt tasks (`GetPhoneNumberTask`, `GetDtmfTask`...) collect what a caller says;
this one proves the caller holds a phone. It is the same `OtpToolset` (limits, keypad, the
not-said guard) run as an `AgentTask`: a host awaits it from a tool or `on_enter` and gets the
proven number back, or a `PhoneNotVerified` error when the caller cannot or will not finish.

    result = await VerifyPhoneTask(otp, caller_phone=sip_number)
    result.phone_e164
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from livekit.agents import NOT_GIVEN, AgentTask, NotGivenOr, RunContext, ToolError, function_tool
from livekit.agents.llm import ChatContext

from verification import OtpService

from .toolset import OnVerified, OtpToolset

INSTRUCTIONS = (
    "You are one step of a call: prove that the caller holds a phone, nothing else. Ask which "
    "number to text a code to, text it with request_otp once they agree, and check the code "
    "they read back (or type on the keypad) with verify_otp. Never guess or repeat a code. If "
    "they cannot or will not go on (no phone at hand, locked out, they ask for a person), "
    "call stop_verification."
)
ASK_FOR_NUMBER = "Ask which phone number to text a verification code to."
ASK_FOR_NUMBER_OR_OWN = (
    "Ask whether to text a verification code to the number they are calling from, or to "
    "another number."
)


@dataclass(frozen=True, slots=True)
class VerifiedPhone:
    """What the task proved: the caller holds this phone (E.164)."""

    phone_e164: str


class PhoneNotVerified(ToolError):
    """The caller stopped before a phone was proven; the message says why (for the model)."""


class VerifyPhoneTask(AgentTask[VerifiedPhone]):
    """Ask for a number, text a code, check it; done once a phone is proven."""

    def __init__(
        self,
        otp_service: OtpService,
        *,
        session_id: str | None = None,
        caller_phone: str | None = None,
        on_verified: OnVerified | None = None,
        extra_instructions: str = "",
        chat_ctx: NotGivenOr[ChatContext] = NOT_GIVEN,
    ) -> None:
        self._host_hook = on_verified
        self.otp_tools = OtpToolset(
            otp_service, session_id=session_id, caller_phone=caller_phone, on_verified=self._proven
        )
        instructions = f"{INSTRUCTIONS} {extra_instructions}".strip()
        super().__init__(instructions=instructions, chat_ctx=chat_ctx, tools=[self.otp_tools])

    async def on_enter(self) -> None:
        ask = ASK_FOR_NUMBER_OR_OWN if self.otp_tools.caller_phone else ASK_FOR_NUMBER
        self.session.generate_reply(instructions=ask)

    async def _proven(self, context: RunContext[Any] | None, phone_e164: str) -> str | None:
        """The toolset's hook: the host's grant first (if it fails, the toolset answers and
        the task stays open), then the task is done."""
        sentence = await self._host_hook(context, phone_e164) if self._host_hook else None
        if not self.done():
            self.complete(VerifiedPhone(phone_e164))
        return sentence

    @function_tool
    async def stop_verification(self, context: RunContext[Any], reason: str) -> None:
        """End this step without a proven phone: the caller can't or won't go on.

        Args:
            reason: a few words on why, e.g. "no phone at hand", "locked", "wants a person"
        """
        if not self.done():
            self.complete(PhoneNotVerified(f"The caller's phone was not verified: {reason}"))
