"""Verify the caller's phone by a texted code, then read them their account balance.

Another agent on the plugin, with no clinic: a tiny in-memory directory of accounts keyed by
phone number, `OtpToolset` for the proof, and one tool of its own that reads a balance only
for the phone the toolset proved (in code, not in the prompt). What the model writes goes
through the plugin's speech hook (`SpeechHygiene`: no code, full number or tool call is ever
said; the support line is), its tool schemas are built once (`with_prebuilt_schemas`), and
keypad digits count only from the SIP caller.

Type to it in this terminal (an LLM is needed: `OPENAI_API_KEY`, or `OPENAI_BASE_URL` for a
local OpenAI-compatible server, with `OPENAI_MODEL`):

    uv run python -m examples.account_balance console --text    # from a checkout
    python -m examples.account_balance console --text           # from the installed wheel

Say "text me at 415 555 0123"; the code appears in the `[DEV SMS ...]` block (console SMS),
read it back, then ask for the balance. Accounts: +1 415 555 0123 (Ada, $1,250.00) and
+1 415 555 0188 (Grace, $87.10). On a LiveKit server the same agent answers calls:
`python -m livekit.agents start examples/account_balance.py` (or `lk agent dev`).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from livekit.agents import (
    NOT_GIVEN,
    Agent,
    AgentServer,
    AgentSession,
    FlushSentinel,
    JobContext,
    ModelSettings,
    RunContext,
    ToolError,
    function_tool,
    llm,
)

from verification import OtpService
from verification.env import env_text
from verification.livekit import OtpToolset, SpeechHygiene, with_prebuilt_schemas

USAGE = "usage: python -m examples.account_balance console --text"
SUPPORT_LINE = "+1 415 555 0100"
INSTRUCTIONS = (
    "You read callers their account balance. First prove they hold the phone on the account: "
    "ask for the number (or offer the number they call from), text a code with request_otp, "
    "and check the code they read back with verify_otp. Then call read_balance. Never guess "
    f"a code. Anyone who can't verify can call our support line, {SUPPORT_LINE}. Keep answers "
    "to one or two short sentences."
)
GREETING = "Hi! I can tell you your balance once I've checked your phone. What's your number?"


@dataclass(frozen=True, slots=True)
class Account:
    holder: str
    balance_cents: int


ACCOUNTS = {
    "+14155550123": Account("Ada", 125_000),
    "+14155550188": Account("Grace", 8_710),
}


class AccountDirectory:
    """The `PhoneDirectory` codes are sent against: only these numbers get a real text."""

    async def is_on_file(self, phone_e164: str) -> bool:
        return phone_e164 in ACCOUNTS


class BalanceAgent(Agent):
    """Reads a balance for the account whose phone the caller proved in this call."""

    def __init__(
        self,
        otp: OtpService,
        *,
        session_id: str | None = None,
        caller_phone: str | None = None,
        caller_identity: str | None = None,
    ) -> None:
        self.account: Account | None = None
        self.otp_tools = OtpToolset(
            otp,
            session_id=session_id,
            caller_phone=caller_phone,  # offered as "caller", never assumed
            caller_identity=caller_identity,  # the SIP participant: its keypad counts
            on_verified=self._unlock,
        )
        super().__init__(instructions=INSTRUCTIONS, tools=[self.otp_tools])
        self.speech = SpeechHygiene(allowed_numbers=[SUPPORT_LINE])

    def llm_node(
        self, chat_ctx: llm.ChatContext, tools: list[llm.Tool], model_settings: ModelSettings
    ) -> AsyncIterator[llm.ChatChunk | str | FlushSentinel]:
        """What the model writes, through the plugin's speech hook before anyone hears it."""
        return self.speech.llm_node(self, chat_ctx, tools, model_settings)

    async def on_enter(self) -> None:
        await self.update_tools(with_prebuilt_schemas(self.tools))  # schemas built once
        self.session.say(GREETING)

    async def _unlock(self, context: RunContext[Any] | None, phone_e164: str) -> str:
        """The grant hook: a proven phone unlocks the account on that number, if any."""
        self.account = ACCOUNTS.get(phone_e164)
        if self.account is None:
            return "No account uses that number."
        return f"The account of {self.account.holder} is unlocked: call read_balance."

    @function_tool
    async def read_balance(self, context: RunContext[Any]) -> str:
        """Read the verified caller their account balance."""
        if self.account is None:
            raise ToolError("The caller's phone isn't verified yet. Offer to text a code.")
        dollars, cents = divmod(self.account.balance_cents, 100)
        return f"{self.account.holder}'s balance is ${dollars:,}.{cents:02d}."


def build_llm(env: Mapping[str, str]) -> llm.LLM[Any]:
    from livekit.plugins import openai

    base_url = env_text(env, "OPENAI_BASE_URL")
    api_key = env_text(env, "OPENAI_API_KEY") or ("not-needed" if base_url else "")
    if not api_key:
        raise SystemExit("set OPENAI_API_KEY (or OPENAI_BASE_URL for a local model)")
    return openai.LLM(
        model=env_text(env, "OPENAI_MODEL", "gpt-4.1-mini"),
        api_key=api_key,
        base_url=base_url or NOT_GIVEN,
    )


async def text_console(
    model: llm.LLM[Any], otp: OtpService, lines: TextIO = sys.stdin, out: TextIO = sys.stdout
) -> None:
    """One call typed in a terminal: each line is a caller turn, each reply is printed."""
    agent = BalanceAgent(otp, session_id=f"console-{os.getpid()}")
    async with AgentSession[None](llm=model) as session:
        session.on("conversation_item_added", lambda event: _print_reply(event.item, out))
        await session.start(agent)
        while line := await asyncio.to_thread(_read_turn, lines, out):
            if line.strip():
                await session.run(user_input=line.strip())


def _read_turn(lines: TextIO, out: TextIO) -> str:
    print("you > ", end="", file=out, flush=True)
    return lines.readline()


def _print_reply(item: llm.ChatItem, out: TextIO) -> None:
    if item.type == "message" and item.role == "assistant" and item.text_content:
        print(f"agent > {item.text_content}", file=out, flush=True)


server = AgentServer()


@server.rtc_session(agent_name="account-balance")
async def entrypoint(ctx: JobContext) -> None:
    """A real call: voice in and out; the job id binds the codes to this call."""
    from livekit.plugins import deepgram, openai, silero

    otp = OtpService.from_env(AccountDirectory())
    ctx.add_shutdown_callback(otp.aclose)
    await ctx.connect()
    caller = await ctx.wait_for_participant()
    caller_id = caller.attributes.get("sip.phoneNumber") or None  # E.164, on SIP calls only
    session: AgentSession[None] = AgentSession(
        llm=build_llm(os.environ), stt=deepgram.STT(), tts=openai.TTS(), vad=silero.VAD.load()
    )
    agent = BalanceAgent(otp, caller_phone=caller_id, caller_identity=caller.identity)
    await session.start(agent, room=ctx.room)


def main(argv: list[str]) -> None:
    if argv[:2] != ["console", "--text"]:
        raise SystemExit(USAGE)
    asyncio.run(_console(build_llm(os.environ)))


async def _console(model: llm.LLM[Any]) -> None:
    otp = OtpService.from_env(AccountDirectory())
    try:
        await text_console(model, otp)
    finally:
        await otp.aclose()


if __name__ == "__main__":
    main(sys.argv[1:])
