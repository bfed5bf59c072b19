"""The plugin: phone verification by SMS code for any LiveKit agent.

The one part of `verification` that imports LiveKit (a library's framework adapter); the rest
of the package stays usable from any front end. What a host uses is here; the modules behind
it (keypad, replies, heard) are private.

    from verification.livekit import OtpToolset
    agent = Agent(instructions="...", tools=[OtpToolset(otp_service, on_verified=grant)])
    result = await VerifyPhoneTask(otp_service)   # or as one step, from a tool or on_enter

Helpers for the host's own agent: `caller_turns` and `proceed_uninterrupted` for its tools,
and `with_prebuilt_schemas` for tool schemas built once instead of on every LLM request.
"""

from .heard import caller_said_code
from .schemas import prebuilt_tool, with_prebuilt_schemas
from .task import PhoneNotVerified, VerifyPhoneResult, VerifyPhoneTask
from .toolset import MAX_CODE_REQUESTS_PER_CALL, OnVerified, OtpToolset
from .turns import caller_turns, proceed_uninterrupted

__all__ = [
    "MAX_CODE_REQUESTS_PER_CALL",
    "OnVerified",
    "OtpToolset",
    "PhoneNotVerified",
    "VerifyPhoneResult",
    "VerifyPhoneTask",
    "caller_said_code",
    "caller_turns",
    "prebuilt_tool",
    "proceed_uninterrupted",
    "with_prebuilt_schemas",
]
