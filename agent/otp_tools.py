"""The clinic's OTP tools: the plugin's `OtpToolset`, with one rule of the clinic's on top.

A code is texted only to a number the caller said in this call, or to the caller's own
number ("caller"). A model that texts a number nobody gave (a guess, a number from an earlier
call, the caller ID's digits copied out) is refused before anything is sent, and told to ask.
Everything else (limits, keypad, sentences) is the toolset's own; `request_otp` here checks
and hands over, it does not repeat the tool.
"""

from __future__ import annotations

from typing import Any

from livekit.agents import RunContext, ToolError, function_tool

from verification import normalize_phone
from verification.livekit import OtpToolset

from . import replies
from .identity import caller_said_phone
from .metrics import measured


def caller_turns(context: RunContext[Any]) -> list[str]:
    """What the caller said in this call, oldest first (user turns only)."""
    return [
        item.text_content or ""
        for item in context.session.history.items
        if item.type == "message" and item.role == "user"
    ]


class ClinicOtpTools(OtpToolset):
    """`request_otp` and `verify_otp` as the plugin has them, texting only numbers said."""

    # the FunctionTool's generic parameters name the class, so mypy sees a new signature
    @function_tool
    @measured
    async def request_otp(  # type: ignore[override]
        self, context: RunContext[Any], patient_phone: str
    ) -> str:
        """Text a verification code. Ask the caller first.

        Args:
            patient_phone: number the caller said, or "caller" for the caller's own
        """
        try:
            e164 = normalize_phone(patient_phone, self.otp.default_region)
        except ValueError:
            e164 = None  # "caller", or not a number: the toolset answers those itself
        if e164 is not None and not caller_said_phone(e164, caller_turns(context)):
            raise ToolError(replies.CODE_NUMBER_NOT_SAID)
        result: str = await OtpToolset.request_otp(self, context, patient_phone)
        return result
