"""The LiveKit worker: one module-level `AgentServer` (`server`), one entrypoint per call.

LiveKit's tools find `server` here: `python -m livekit.agents start agent/server.py`,
`lk agent dev|start|console`, and our own `python -m agent ...` all run this same object.

Each worker process builds its services once, in `prewarm` (LiveKit's setup_fnc), before a
call arrives (`agent/wiring.py`: records, the OTP service and its SMS senders, the LLM
client, the models). Each call gets its own `CallState` and, on a SIP call, a room that
serves only the caller (`agent/telephony.py`).
"""

from __future__ import annotations

import gc
import logging
import math
import os
import sys
from typing import NoReturn

from livekit.agents import NOT_GIVEN, AgentServer, JobContext, JobProcess
from livekit.agents.telemetry.http_server import HttpServer as MetricsHttpServer
from livekit.plugins import silero

from verification import ConfigurationError
from verification.livekit import OtpToolset

from .clinic_agent import ClinicAgent
from .log_redaction import install_pii_redaction
from .preflight import check_services
from .settings import AgentSettings, load_settings
from .state import CallState, Services
from .telephony import find_sip_caller, phone_room, remember_sip_caller
from .usage import report_call_usage
from .wiring import build_llm, build_services, build_session, prepare_records, warm_up

log = logging.getLogger(__name__)


def prewarm(proc: JobProcess) -> None:
    """Once per worker process, before its call: settings, the services (SMS senders and
    their breaker included), the LLM client, the lazy imports and models a call needs, and
    for audio the VAD model."""
    settings = load_settings()
    if settings.production:
        install_pii_redaction()
    proc.userdata["settings"] = settings
    services = proc.userdata["services"] = build_services(settings)
    proc.userdata["turn_detector"] = warm_up(services.otp.default_region)
    proc.userdata["llm"] = build_llm(settings)
    proc.userdata["vad"] = silero.VAD.load()
    # the tools' schemas, built here once (verification.livekit.schemas keeps them): the
    # call's agent and code tools then take them ready-made, not on the call's event loop
    ClinicAgent(clinic_name=settings.clinic_name)
    OtpToolset(services.otp, session_id="prewarm")
    # What prewarm built lives as long as the process: frozen out of every later collection, a
    # full collection in the call walks only the call's own objects, not the SDKs' ~100,000
    # (the longest pause while codes are texted: 70-75 ms -> 19 ms, docs/benchmarks.md, SMS).
    gc.collect()
    gc.freeze()


async def entrypoint(ctx: JobContext) -> None:
    """One call: its state, the SIP caller (if any), the session in a room that serves
    only that caller."""
    userdata = ctx.proc.userdata
    settings: AgentSettings = userdata.get("settings") or load_settings()
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
    room = phone_room(caller, record_content=settings.record_call_content)
    await session.start(
        ClinicAgent(clinic_name=settings.clinic_name), room=ctx.room, **room.start_kwargs()
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
        if worker.livekit_url and worker.livekit_api_key and worker.livekit_api_secret:
            # read at start like every setting (LiveKit reads them when `server` is built, at
            # import, before .env.local is loaded)
            self.update_options(
                ws_url=worker.livekit_url,
                api_key=worker.livekit_api_key,
                api_secret=worker.livekit_api_secret,
            )
        if settings.metrics_port is not None:
            # where LiveKit gathers the job processes' metrics (and clears it at start): the
            # constructor's `prometheus_multiproc_dir`, which `update_options` does not take;
            # LiveKit hands it to its job processes itself
            self._prometheus_multiproc_dir = settings.metrics_dir
        if self._entrypoint_fnc is None:
            self.rtc_session(entrypoint, agent_name=settings.agent_name)
        self.settings = settings

    async def run(self, *, devmode: bool = False, unregistered: bool = False) -> None:
        # unregistered: a console (LiveKit's own, or `lk agent console`)
        command = "console" if unregistered else "dev" if devmode else "start"
        try:
            settings = load_settings(command)
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


__all__ = ["ClinicAgentServer", "build_server", "entrypoint", "prewarm", "server"]


def build_server() -> ClinicAgentServer:
    """A fresh, unconfigured server (it reads its settings when it runs)."""
    return ClinicAgentServer()


# The server LiveKit's tools discover (they look for a module-level `server`).
server = build_server()
