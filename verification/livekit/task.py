"""VerifyPhoneTask: proving a phone as one self-contained step, shaped like LiveKit's own.

LiveKit's prebuilt tasks (`GetEmailTask`, `GetPhoneNumberTask` in `beta.workflows`) collect
what a caller says; this one proves the caller holds a phone. It takes the same optional
session and model arguments, returns a result type, and has a decline tool: the caller who
can't or won't go on ends the step with `PhoneNotVerified` (a `ToolError`, as GetEmailTask's
decline is). Inside, it is the same `OtpToolset`: limits, keypad, the "said" rules.

    number = await GetPhoneNumberTask()                     # or any number the host holds
    result = await VerifyPhoneTask(otp, known_phone=number.phone_number, caller_phone=sip_id)
    result.phone_e164

`known_phone` is a number the host vouches for (collected, or from its records); the caller
is asked to confirm it and is never read it in full. `caller_phone` is the SIP caller ID, a
hint the caller controls: offered ("the number you're calling from"), never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from livekit.agents import NOT_GIVEN, AgentTask, NotGivenOr, RunContext, ToolError, llm
from livekit.agents import function_tool as _function_tool
from livekit.agents import stt as _stt
from livekit.agents import tts as _tts
from livekit.agents import vad as _vad

from verification import OtpService, mask_phone

from .schemas import prebuilt_tool
from .toolset import OnVerified, OtpToolset

if TYPE_CHECKING:
    from livekit.agents.voice.turn import TurnDetectionMode

INSTRUCTIONS = (
    "You are one step of a call: prove that the caller holds a phone, nothing else. Text a "
    'code with request_otp once they agree (by call, channel "call", if texts don\'t reach '
    "them), and check the code they read back (or type on the keypad) with verify_otp. Never "
    "guess or repeat a code. If they can't or won't go on (no phone at hand, locked out, they "
    "ask for a person), call decline_phone_verification."
)
ASK_FOR_NUMBER = "Ask which phone number to text a verification code to."
ASK_FOR_NUMBER_OR_OWN = (
    "Ask whether to text a verification code to the number they are calling from "
    '(patient_phone="caller"), or to another number.'
)
CONFIRM_KNOWN = (
    "Ask whether to text a verification code to the number {masked} "
    '(patient_phone="known"), or to another number.'
)


@dataclass(frozen=True, slots=True)
class VerifyPhoneResult:
    """What the task proved: the caller holds this phone (E.164)."""

    phone_e164: str


class PhoneNotVerified(ToolError):
    """The caller stopped before a phone was proven; the message says why (for the model)."""


class VerifyPhoneTask(AgentTask[VerifyPhoneResult]):
    """Offer a code, text it, check it; done once a phone is proven (or the caller declines)."""

    def __init__(
        self,
        otp_service: OtpService,
        *,
        known_phone: str | None = None,
        caller_phone: str | None = None,
        session_id: str | None = None,
        on_verified: OnVerified | None = None,
        language: str = "en",
        extra_instructions: str = "",
        chat_ctx: NotGivenOr[llm.ChatContext] = NOT_GIVEN,
        turn_detection: NotGivenOr[TurnDetectionMode | None] = NOT_GIVEN,
        tools: NotGivenOr[list[llm.Tool | llm.Toolset]] = NOT_GIVEN,
        stt: NotGivenOr[_stt.STT[Any] | None] = NOT_GIVEN,
        vad: NotGivenOr[_vad.VAD | None] = NOT_GIVEN,
        llm: NotGivenOr[llm.LLM[Any] | llm.RealtimeModel | None] = NOT_GIVEN,
        tts: NotGivenOr[_tts.TTS[Any] | None] = NOT_GIVEN,
        allow_interruptions: NotGivenOr[bool] = NOT_GIVEN,
    ) -> None:
        self._host_hook = on_verified
        self.otp_tools = OtpToolset(
            otp_service,
            session_id=session_id,
            caller_phone=caller_phone,
            known_phone=known_phone,
            language=language,
            on_verified=self._proven,
        )
        super().__init__(
            instructions=f"{INSTRUCTIONS} {extra_instructions}".strip(),
            chat_ctx=chat_ctx,
            turn_detection=turn_detection,
            tools=[*(tools or []), self.otp_tools, prebuilt_tool(self._decline_tool())],
            stt=stt,
            vad=vad,
            llm=llm,
            tts=tts,
            allow_interruptions=allow_interruptions,
        )

    async def on_enter(self) -> None:
        known, caller = self.otp_tools.known_phone, self.otp_tools.caller_phone
        if known is not None:
            ask = CONFIRM_KNOWN.format(masked=mask_phone(known))
        else:
            ask = ASK_FOR_NUMBER_OR_OWN if caller is not None else ASK_FOR_NUMBER
        self.session.generate_reply(instructions=ask)

    async def _proven(self, context: RunContext[Any] | None, phone_e164: str) -> str | None:
        """The toolset's hook: the host's grant first (if it raises, the toolset answers,
        nothing is proven and the task stays open), then the task is done."""
        sentence = await self._host_hook(context, phone_e164) if self._host_hook else None
        if not self.done():
            self.complete(VerifyPhoneResult(phone_e164))
        return sentence

    def _decline_tool(self) -> llm.FunctionTool[..., Any]:
        # built per task (like GetEmailTask's tools), so the instance's schema is prebuilt
        @_function_tool(flags=llm.ToolFlag.IGNORE_ON_ENTER)
        async def decline_phone_verification(reason: str) -> None:
            """End this step without a proven phone: the caller can't or won't go on.

            Args:
                reason: a few words on why
            """
            if not self.done():
                self.complete(PhoneNotVerified(f"The caller's phone was not verified: {reason}"))

        return decline_phone_verification
