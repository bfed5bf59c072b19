"""The LiveKit worker: one module-level `AgentServer` (`server`), one entrypoint per call.

LiveKit's tools find `server` here: `python -m livekit.agents start agent/server.py`,
`lk agent dev|start|console`, and our own `python -m agent ...` all run this same object.

Each worker process builds its services once, in `prewarm` (LiveKit's setup_fnc), before a
call arrives: records, the OTP service and its SMS senders (so their circuit breaker and SDK
imports are not rebuilt on a call's event loop). Each call gets its own `CallState`. On a SIP
call the caller's number and identity are kept for `request_otp("caller")` and staff
transfer; keypad digits go to the code check through the agent's `OtpToolset` (it attaches
itself to the job's room).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import math
import os
import sys
from collections.abc import Mapping
from typing import Any, NoReturn

from dotenv import load_dotenv
from livekit import rtc
from livekit.agents import (
    NOT_GIVEN,
    AgentServer,
    AgentSession,
    JobContext,
    JobProcess,
    TurnHandlingOptions,
)
from livekit.agents.telemetry.http_server import HttpServer as MetricsHttpServer
from livekit.plugins import deepgram, openai, silero

from clinic import open_records, shared_records_warning
from verification import ConfigurationError, OtpService, SqliteOtpStore, normalize_phone
from verification.config import validate_env

from .clinic_agent import ClinicAgent
from .log_redaction import install_pii_redaction
from .preflight import ServiceProblem, check_services
from .settings import AgentSettings
from .state import CallState, Services
from .usage import report_call_usage

log = logging.getLogger(__name__)

SIP_PARTICIPANT_WAIT_SECONDS = 10.0
OPENAI_API_URL = "https://api.openai.com/v1"
DEEPGRAM_API_URL = "https://api.deepgram.com/v1"


def build_services(settings: AgentSettings, env: Mapping[str, str] | None = None) -> Services:
    """Records and the OTP service, built without touching the network or the disk: safe in
    `prewarm`, where there is no event loop yet. The schema and demo data come later, on the
    records' own thread (`prepare_records`). `env`: what `verification` reads (default: the
    process environment)."""
    records = open_records(
        settings.database_url,
        pool_size=settings.records_pool_size,
        timeout=settings.records_timeout_seconds,
    )
    otp = OtpService.from_env(records, os.environ if env is None else env)
    # Codes are shared between workers exactly when they are not in the local SQLite file
    # (REDIS_URL is verification's to read).
    shared = None if isinstance(otp.store, SqliteOtpStore) else "the shared code store"
    warning = shared_records_warning(settings.database_url, redis_url=shared)
    if settings.production and warning is not None:
        log.warning(warning, extra={"database": "sqlite"})
    return Services(clinic=records, otp=otp, options=settings.options)


async def prepare_records(services: Services, settings: AgentSettings) -> None:
    """Schema and demo data, off the event loop (SQLite on its own thread, PostgreSQL async)."""
    if settings.load_demo_data:
        await services.clinic.load_demo()


# What a call's first moments would otherwise import on its event loop (measured at 0.3-0.9 s
# on a busy 2-core machine): the HTTP stack under the OpenAI SDK and the SDK's lazily loaded
# resources, used by LiveKit's LLM prewarm request and the first completion.
LAZY_IMPORTS = (
    "anyio._backends._asyncio",
    "httpcore2",
    "httpcore",
    "openai.resources.models",
    "openai.resources.chat.completions",
    "openai.lib.streaming.chat",
)


def warm_up() -> object | None:
    """Do now, off any event loop, what the first call would do on it: the lazy imports, and
    loading LiveKit's end-of-turn model (a native singleton the session loads when it starts,
    ~0.3 s). Returns the detector instance, to keep the model loaded."""
    for name in LAZY_IMPORTS:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    try:
        from livekit.local_inference import EOT
    except ImportError:
        return None
    return EOT()


def prewarm(proc: JobProcess) -> None:
    """Once per worker process, before its call: settings, the services (SMS senders and
    their breaker included), the LLM client, the lazy imports and models a call needs, and
    for audio the VAD model."""
    settings = AgentSettings.from_env(os.environ)
    if settings.production:
        install_pii_redaction()
    validate_env(os.environ)
    proc.userdata["settings"] = settings
    proc.userdata["services"] = build_services(settings)
    proc.userdata["turn_detector"] = warm_up()
    proc.userdata["llm"] = build_llm(settings)
    proc.userdata["vad"] = silero.VAD.load()


def build_llm(settings: AgentSettings) -> openai.LLM:
    """OpenAI, or any OpenAI-compatible server (`OPENAI_BASE_URL`), with the knobs that keep
    small models in line: temperature, a cap on reply length, one tool call at a time."""
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

    Without audio (the text console) there is no STT, TTS or VAD; without a Deepgram key no
    STT, without an OpenAI key no TTS: `python -m agent` refuses the audio modes then.
    """
    knobs = settings.model
    stt = (
        deepgram.STT(
            model=knobs.deepgram_model,
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
        turn_handling=TurnHandlingOptions(
            preemptive_generation={"enabled": settings.worker.preemptive_generation}
        ),
    )


async def find_sip_caller(ctx: JobContext) -> rtc.RemoteParticipant | None:
    """The phone caller, if this is a SIP call (None in console mode or a browser call)."""
    if ctx.is_fake_job():
        return None
    try:
        participant = await asyncio.wait_for(
            ctx.wait_for_participant(), timeout=SIP_PARTICIPANT_WAIT_SECONDS
        )
    except TimeoutError:
        return None
    if participant.kind != rtc.ParticipantKind.PARTICIPANT_KIND_SIP:
        return None
    return participant


def remember_sip_caller(state: CallState, caller: rtc.RemoteParticipant) -> None:
    """Keep the caller's identity (for transfer) and number (for `request_otp("caller")`).

    A withheld or undialable caller ID ("anonymous", "") leaves `caller_phone` unset.
    """
    state.sip_participant_identity = caller.identity
    raw_number = caller.attributes.get("sip.phoneNumber", "")
    try:
        state.caller_phone = normalize_phone(raw_number, state.services.otp.default_region)
    except ValueError:
        state.caller_phone = None


def _room_options() -> dict[str, Any]:
    """Telephony noise cancellation when LiveKit's plugin is installed (LiveKit Cloud only)."""
    try:
        from livekit.agents.voice import room_io
        from livekit.plugins import noise_cancellation  # type: ignore[attr-defined]
    except ImportError:
        return {}
    return {
        "room_options": room_io.RoomOptions(
            audio_input=room_io.AudioInputOptions(
                noise_cancellation=noise_cancellation.BVCTelephony()
            )
        )
    }


async def entrypoint(ctx: JobContext) -> None:
    userdata = ctx.proc.userdata
    settings: AgentSettings = userdata.get("settings") or AgentSettings.from_env(os.environ)
    if settings.production:
        install_pii_redaction()  # again: the job's own log handlers may be newer than prewarm
    services: Services = userdata.pop("services", None) or build_services(settings)
    ctx.add_shutdown_callback(services.aclose)
    await prepare_records(services, settings)

    state = CallState(services=services, session_id=ctx.job.id)
    caller = await find_sip_caller(ctx)
    if caller is not None:
        remember_sip_caller(state, caller)
    session = build_session(
        settings, state, vad=userdata.get("vad", NOT_GIVEN), model=userdata.pop("llm", None)
    )

    async def report_usage() -> None:
        report_call_usage(session, state.session_id)

    ctx.add_shutdown_callback(report_usage)
    # Keypad digits: the agent's `OtpToolset` listens to this job's room itself (its `setup`)
    # and sends them to the code check while one is pending, never to the LLM.
    await session.start(
        ClinicAgent(clinic_name=settings.clinic_name), room=ctx.room, **_room_options()
    )
    log.info(
        "call started",
        extra={"session_id": state.session_id, "sip": caller is not None},
    )


class ClinicAgentServer(AgentServer):
    """LiveKit's `AgentServer`, configured when it runs and failing loudly.

    Importing this module reads nothing: `run()` loads `.env.local` (as LiveKit's starters
    do), reads `AgentSettings`, and applies the worker settings, so every entry point
    (`python -m agent`, `python -m livekit.agents start agent/server.py`, `lk agent ...`)
    configures the server the same way. A wrong setting, a key a service rejects or a service
    that cannot be reached is one line on stderr and a non-zero exit (LiveKit by itself logs,
    retries, and exits 0). /metrics listens on `METRICS_HOST` (localhost by default: it can
    tell real sends from decoys), not on every interface like LiveKit's health check.
    """

    def __init__(self) -> None:
        super().__init__(setup_fnc=prewarm)
        self.settings: AgentSettings | None = None
        self.check_services_on_start = True
        self._metrics_http: MetricsHttpServer | None = None

    def configure(self, settings: AgentSettings, *, devmode: bool) -> None:
        """Apply the worker settings (`dev` and the console keep LiveKit's development
        values: no load limit, at most one warm process)."""
        worker = settings.worker
        self.update_options(
            load_threshold=math.inf if devmode else worker.load_threshold,
            num_idle_processes=min(worker.idle_processes, 1) if devmode else worker.idle_processes,
            drain_timeout=worker.drain_timeout_seconds,
        )
        if settings.metrics_port is not None:
            # LiveKit gathers the job processes' metrics from here (and clears it at start)
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = settings.metrics_dir
        if self._entrypoint_fnc is None:
            self.rtc_session(entrypoint, agent_name=settings.agent_name)
        self.settings = settings

    async def run(self, *, devmode: bool = False, unregistered: bool = False) -> None:
        load_dotenv(".env.local")
        load_dotenv(".env")
        try:
            # unregistered: a console (LiveKit's own, or `lk agent console`)
            command = "console" if unregistered else "dev" if devmode else "start"
            settings = AgentSettings.from_env(os.environ, command=command)
            validate_env(os.environ)
        except ConfigurationError as exc:
            fail(f"configuration error: {exc}", status=2)
        if not unregistered:
            missing = settings.missing_variables(command, text_only=False)
            if missing:
                fail(f"cannot start: set {', '.join(missing)} (see .env.example)", status=2)
        if self.check_services_on_start and settings.worker.startup_checks:
            # a console (`lk agent console`) needs no LiveKit server, only the model services
            problem = await check_services(settings, audio=True, livekit=not unregistered)
            if problem is not None:
                fail(problem.line, status=1)
        self.configure(settings, devmode=devmode)
        if settings.metrics_port is not None:
            self._metrics_http = MetricsHttpServer(settings.metrics_host, settings.metrics_port)
            await self._metrics_http.start()
            log.info(
                "metrics at http://%s:%s/metrics", settings.metrics_host, settings.metrics_port
            )
        try:
            await super().run(devmode=devmode, unregistered=unregistered)
        except Exception as exc:  # LiveKit gave up (e.g. after its connection retries)
            await self.aclose()
            fail(f"the LiveKit worker stopped: {exc}", status=1)
        finally:
            if self._metrics_http is not None:
                await self._metrics_http.aclose()
                self._metrics_http = None


def fail(line: str, *, status: int) -> NoReturn:
    """One line on stderr and a non-zero exit, now.

    Called from inside LiveKit's CLI, where an exception from `run()` is logged and the
    process exits 0 (and a SystemExit comes with a "Task exception was never retrieved"
    traceback), so the process ends here once the line is out. Nothing is left running:
    before the worker starts there is nothing to stop, after it failed it was closed.
    """
    print(f"agent: {line}", file=sys.stderr, flush=True)
    logging.shutdown()
    sys.stdout.flush()
    os._exit(status)


__all__ = [
    "ClinicAgentServer",
    "ServiceProblem",
    "build_server",
    "build_services",
    "build_session",
    "entrypoint",
    "prewarm",
    "remember_sip_caller",
    "server",
]


def build_server() -> ClinicAgentServer:
    """A fresh, unconfigured server (it reads its settings when it runs)."""
    return ClinicAgentServer()


# The server LiveKit's tools discover (they look for a module-level `server`).
server = build_server()
