"""What a call is built from: records, the OTP service, the model, the session.

Every entry point (a phone call through the worker, the typed console, LiveKit's voice
console) builds its call from these functions and the one `AgentSettings` read at start, so
a call in the terminal is the same call as on the phone line.

Nothing here touches the network or the disk when it is built: `build_services` and
`build_llm` are safe in `prewarm`, where there is no event loop yet, and the records' schema
and demo data come later, on the records' own thread (`prepare_records`).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from typing import Any

import httpx2 as httpx
import phonenumbers
from livekit.agents import NOT_GIVEN, AgentSession, APIConnectOptions, TurnHandlingOptions
from livekit.agents.voice.agent_session import SessionConnectOptions
from livekit.plugins import deepgram, openai

from clinic import shared_records_warning
from verification import OtpService, normalize_phone

from . import instructions
from .settings import AgentSettings
from .state import CallState, Services

log = logging.getLogger(__name__)

OPENAI_API_URL = "https://api.openai.com/v1"
DEEPGRAM_API_URL = "https://api.deepgram.com/v1"

# Tool steps one caller turn may take before the model must answer in words. A turn needs at
# most two in practice (verify_identity, then list_appointments; verify_otp, then
# cancel_appointment after the caller confirmed); a third leaves room for one refused call to
# be corrected. More only lets a confused model loop through refusals while the caller waits.
MAX_TOOL_STEPS = 3


def build_services(settings: AgentSettings) -> Services:
    """Records and the OTP service, as the settings describe them."""
    records = settings.clinic.open_records()
    otp = OtpService.from_settings(records, settings.verification)
    # Codes are shared between workers exactly when they are not in a local SQLite file.
    shared = "the shared code store" if settings.verification.store.redis_url else None
    warning = shared_records_warning(settings.clinic.database_url, redis_url=shared)
    if settings.production and warning is not None:
        log.warning(warning, extra={"database": "sqlite"})
    return Services(clinic=records, otp=otp, options=settings.options)


async def prepare_records(services: Services, settings: AgentSettings) -> None:
    """Schema and demo data, off the event loop (SQLite on its own thread, PostgreSQL async)."""
    if settings.clinic.demo_data:
        await services.clinic.load_demo()


def build_llm(settings: AgentSettings) -> openai.LLM:
    """OpenAI, or any OpenAI-compatible server (`OPENAI_BASE_URL`), with the knobs that keep
    small models in line: temperature, a cap on reply length, one tool call at a time, and
    how long a reply may take to start (`OPENAI_TIMEOUT`: a small CPU reads a long prompt
    slowly)."""
    model = settings.model
    cap: dict[str, Any] = {}
    if model.max_tokens is not None:
        # api.openai.com takes max_completion_tokens; local servers (Ollama, llama-server)
        # know the older max_tokens.
        if model.openai_base_url:
            cap["extra_body"] = {"max_tokens": model.max_tokens}
        else:
            cap["max_completion_tokens"] = model.max_tokens
    return openai.LLM(
        model=model.openai_model,
        base_url=model.openai_base_url or NOT_GIVEN,
        api_key=model.openai_api_key or "unused-by-local-server",
        temperature=model.temperature if model.temperature is not None else NOT_GIVEN,
        parallel_tool_calls=(
            model.parallel_tool_calls if model.parallel_tool_calls is not None else NOT_GIVEN
        ),
        timeout=httpx.Timeout(connect=15.0, read=model.timeout_seconds, write=5.0, pool=5.0),
        **cap,
    )


def build_session(
    settings: AgentSettings,
    state: CallState,
    *,
    vad: Any = NOT_GIVEN,
    audio: bool = True,
    model: openai.LLM | None = None,
) -> AgentSession[CallState]:
    """Deepgram hears, OpenAI (or any OpenAI-compatible server) thinks, OpenAI speaks.

    Without audio (the text console) there is no STT, TTS or VAD, and no quiet-line
    countdown (a developer typing is not a caller gone quiet); without a Deepgram key no STT,
    without an OpenAI key no TTS: `python -m agent` refuses the audio modes then.
    """
    knobs = settings.model
    stt = (
        deepgram.STT(
            model=knobs.deepgram_model,
            language=knobs.deepgram_language,
            numerals=True,
            mip_opt_out=True,
            base_url=f"{knobs.deepgram_base_url or DEEPGRAM_API_URL}/listen",
        )
        if audio and knobs.deepgram_api_key
        else NOT_GIVEN
    )
    tts = (
        # OpenAI itself unless OPENAI_TTS_BASE_URL says otherwise: the SDK would otherwise
        # follow OPENAI_BASE_URL to a local LLM server
        openai.TTS(
            model=knobs.tts_model,
            voice=knobs.tts_voice,
            base_url=knobs.tts_base_url or OPENAI_API_URL,
        )
        if audio and knobs.openai_api_key
        else NOT_GIVEN
    )
    return AgentSession[CallState](
        vad=vad if audio else NOT_GIVEN,
        stt=stt,
        llm=model if model is not None else build_llm(settings),
        tts=tts,
        userdata=state,
        max_tool_steps=MAX_TOOL_STEPS,
        user_away_timeout=settings.quiet_line_seconds if audio else None,
        conn_options=SessionConnectOptions(
            llm_conn_options=APIConnectOptions(timeout=knobs.timeout_seconds)
        ),
        turn_handling=TurnHandlingOptions(
            preemptive_generation={"enabled": settings.worker.preemptive_generation}
        ),
    )


# What a call's first moments would otherwise import on its event loop (measured at 0.3-0.9 s
# on a busy 2-core machine): the HTTP stack under the OpenAI SDK, and the SDK's resources for
# a chat completion, which it loads on first use (a package `__getattr__`: importing the
# package alone loads none of them), used by LiveKit's LLM prewarm request and the first
# completion; LiveKit's own toolset support, imported when the session starts.
LAZY_IMPORTS = (
    "livekit.agents.llm.async_toolset",
    "anyio._backends._asyncio",
    "httpcore2",
    "httpcore",
    "openai.resources.models",
    "openai.resources.chat.chat",
    "openai.resources.chat.completions.completions",
    "openai.resources.chat.completions.messages",
    "openai.lib._chat_completion_resources",
    "openai.lib.streaming.chat",
)


def warm_up(region: str = "US") -> object | None:
    """Do now, off any event loop, what the first call would do on it: the lazy imports, the
    phone number metadata of the clinic's region (loaded, and its patterns compiled, on the
    first number a caller says), every language's prompts (read on the greeting, and on a
    switch of language), and LiveKit's end-of-turn model (a native singleton the session
    loads when it starts, ~0.3 s). Returns the detector instance, to keep the model loaded."""
    for name in LAZY_IMPORTS:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    _read_a_number(region)
    instructions.warm()
    try:
        from livekit.local_inference import EOT
    except ImportError:
        return None
    return EOT()


def _read_a_number(region: str) -> None:
    """Read the region's example number as a caller would say it: parsed, and found in text."""
    example = phonenumbers.example_number(region)
    if example is None:
        return
    said = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    normalize_phone(said, region)
    for _ in phonenumbers.PhoneNumberMatcher(f"my number is {said}", region):
        pass


__all__ = [
    "MAX_TOOL_STEPS",
    "build_llm",
    "build_services",
    "build_session",
    "prepare_records",
    "warm_up",
]
