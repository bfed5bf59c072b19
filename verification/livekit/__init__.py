"""The plugin: phone verification by SMS code for any LiveKit agent.

The one part of `verification` that imports LiveKit (a library's framework adapter); the rest
of the package stays usable from any front end.

    from verification.livekit import OtpToolset
    agent = Agent(instructions="...", tools=[OtpToolset(otp_service, on_verified=grant)])
"""

from .heard import caller_said_code
from .keypad import KeypadBuffer
from .toolset import MAX_CODE_REQUESTS_PER_CALL, OnVerified, OtpToolset

__all__ = [
    "MAX_CODE_REQUESTS_PER_CALL",
    "KeypadBuffer",
    "OnVerified",
    "OtpToolset",
    "caller_said_code",
]
