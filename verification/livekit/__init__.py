"""The plugin: phone verification by SMS code for any LiveKit agent.

The one part of `verification` that imports LiveKit (a library's framework adapter); the rest
of the package stays usable from any front end.

    from verification.livekit import OtpToolset
    agent = Agent(instructions="...", tools=[OtpToolset(otp_service, on_verified=grant)])
    proven = await VerifyPhoneTask(otp_service)   # or as one step, from a tool or on_enter
"""

from .heard import caller_said_code
from .keypad import KeypadBuffer
from .task import PhoneNotVerified, VerifiedPhone, VerifyPhoneTask
from .toolset import MAX_CODE_REQUESTS_PER_CALL, OnVerified, OtpToolset

__all__ = [
    "MAX_CODE_REQUESTS_PER_CALL",
    "KeypadBuffer",
    "OnVerified",
    "OtpToolset",
    "PhoneNotVerified",
    "VerifiedPhone",
    "VerifyPhoneTask",
    "caller_said_code",
]
