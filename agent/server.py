"""The LiveKit worker: one AgentServer, one entrypoint per call.

Each call (job) gets its own `Services` (clinic records, OTP service) and `CallState`. On a
SIP call the caller's number and identity are kept for `request_otp("caller")` and staff
transfer, and keypad digits are routed to `KeypadCodeEntry`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from livekit import rtc
from livekit.agents import NOT_GIVEN, AgentServer, AgentSession, JobContext, JobProcess
from livekit.plugins import deepgram, openai, silero

from clinic import ClinicDB
from verification import OtpService, normalize_phone
from verification.config import validate_env
from verification.env import is_production

from .clinic_agent import ClinicAgent
from .keypad import KeypadCodeEntry
from .log_redaction import install_pii_redaction
from .settings import AgentSettings
from .state import CallState, Services

log = logging.getLogger(__name__)

SIP_PARTICIPANT_WAIT_SECONDS = 10.0


def prewarm(proc: JobProcess) -> None:
    """Once per worker process, before any call: load the VAD model, and build the SMS
    senders once so their SDK imports (boto3, vonage: a blocking ~0.5 s) happen here rather
    than on a call's event loop."""
    proc.userdata["vad"] = silero.VAD.load()
    validate_env(os.environ)
    if is_production(os.environ):
        install_pii_redaction()


async def build_services(settings: AgentSettings) -> Services:
    clinic = ClinicDB(settings.clinic_db_path)
    if settings.load_demo_data:
        await clinic.load_demo()
    return Services(clinic=clinic, otp=OtpService.from_env(clinic), options=settings.options)


def build_session(
    ctx: JobContext, settings: AgentSettings, state: CallState
) -> AgentSession[CallState]:
    """Deepgram hears, OpenAI (or any OpenAI-compatible server) thinks, OpenAI speaks.

    Without a Deepgram key (text-only console) there is no STT, and without an OpenAI key (a
    local OpenAI-compatible server) no TTS: `python -m agent` refuses the audio modes then.
    """
    stt = (
        deepgram.STT(model=settings.deepgram_model, numerals=True, mip_opt_out=True)
        if settings.deepgram_api_key
        else NOT_GIVEN
    )
    tts = (
        openai.TTS(model=settings.tts_model, voice=settings.tts_voice)
        if settings.openai_api_key
        else NOT_GIVEN
    )
    model = openai.LLM(
        model=settings.openai_model,
        base_url=settings.openai_base_url or NOT_GIVEN,
        api_key=settings.openai_api_key or "unused-by-local-server",
    )
    return AgentSession[CallState](
        vad=ctx.proc.userdata.get("vad", NOT_GIVEN), stt=stt, llm=model, tts=tts, userdata=state
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


def build_server(*, metrics_port: int | None = None, metrics_dir: str | None = None) -> AgentServer:
    """The worker. With `metrics_port`, LiveKit serves /metrics there, gathering our metrics
    from every job process through Prometheus' multiprocess directory."""
    server = AgentServer(
        setup_fnc=prewarm,
        prometheus_port=metrics_port,
        prometheus_multiproc_dir=metrics_dir if metrics_port else None,
    )
    agent_name = os.environ.get("AGENT_NAME", "").strip() or "clinic-agent"
    server.rtc_session(entrypoint, agent_name=agent_name)
    return server


async def entrypoint(ctx: JobContext) -> None:
    if is_production(os.environ):
        install_pii_redaction()
    settings = AgentSettings.from_env(os.environ)
    services = await build_services(settings)
    ctx.add_shutdown_callback(services.aclose)

    state = CallState(services=services, session_id=ctx.job.id)
    caller = await find_sip_caller(ctx)
    if caller is not None:
        remember_sip_caller(state, caller)
    session = build_session(ctx, settings, state)
    if caller is not None:
        KeypadCodeEntry(session, state).attach(ctx.room)
    await session.start(
        ClinicAgent(clinic_name=settings.clinic_name), room=ctx.room, **_room_options()
    )
    log.info(
        "call started",
        extra={"session_id": state.session_id, "sip": caller is not None},
    )
