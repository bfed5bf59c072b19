"""The plugin: phone verification by SMS code for any LiveKit agent.

The one part of `verification` that imports LiveKit (a library's framework adapter); the rest
of the package stays usable from any front end. What a host uses is here; the modules behind
it (keypad, numbers, replies, schemas, speech, task, toolset, turns) are private.

    from verification.livekit import OtpToolset
    agent = Agent(instructions="...", tools=[OtpToolset(otp_service, on_verified=grant)])
    result = await VerifyPhoneTask(otp_service)   # or as one step, from a tool or on_enter

For the host's own agent: `SpeechHygiene` for its `llm_node` (no code, full number or tool
call is ever said), `caller_turns` and `proceed_uninterrupted` for its tools, and
`with_prebuilt_schemas` for tool schemas built once instead of on every LLM request.
"""

from .schemas import prebuilt_tool, with_prebuilt_schemas
from .speech import DEFAULT_QUESTIONS, CallerSentences, SpeechHygiene
from .task import PhoneNotVerified, VerifyPhoneResult, VerifyPhoneTask
from .toolset import MAX_CODE_REQUESTS_PER_CALL, OnVerified, OtpToolset
from .turns import caller_turns, proceed_uninterrupted

__all__ = [
    "DEFAULT_QUESTIONS",
    "MAX_CODE_REQUESTS_PER_CALL",
    "CallerSentences",
    "OnVerified",
    "OtpToolset",
    "PhoneNotVerified",
    "SpeechHygiene",
    "VerifyPhoneResult",
    "VerifyPhoneTask",
    "caller_turns",
    "prebuilt_tool",
    "proceed_uninterrupted",
    "with_prebuilt_schemas",
]
