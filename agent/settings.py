"""The app's settings: the environment read once, at start, into one typed object.

`load_settings(command)` is the one place the clinic app reads the environment (with
`.env.local`, then `.env`, filled in first, as LiveKit's starters do); every entry point calls
it and passes the result down. `AgentSettings` holds each layer's own settings object, parsed
from that one reading: `verification` (`VerificationSettings`, the plugin's variables) and
`clinic` (`ClinicSettings`, the records), beside the agent's own. No module below reads the
environment. Every variable is listed in `.env.example`; a value that is not what the variable
takes is a `ConfigurationError` naming it, so the CLI can say so in one line.

The app gives two of the plugin's variables a default of its own: the text names the clinic
(`OTP_BRAND_NAME` defaults to `CLINIC_NAME`), and codes go only to US and Canadian numbers
(`OTP_ALLOWED_COUNTRIES` defaults to `US,CA`, a US clinic's patients).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from dotenv import load_dotenv

from clinic import ClinicSettings
from verification import ConfigurationError, VerificationSettings
from verification.env import env_flag, env_int, env_number, env_text, is_production

from .state import DEFAULT_MAX_NEW_BOOKINGS, CallOptions

DEFAULT_AGENT_NAME = "clinic-agent"
DEFAULT_METRICS_PORT = 9464
DEFAULT_METRICS_HOST = "127.0.0.1"
DEFAULT_METRICS_DIR = "var/prometheus"

# Worker settings for a phone line (docs/operations.md, "Worker settings").
# Above this CPU load (0..1) the worker stops taking calls, so LiveKit offers them to another
# worker instead of starting one more call on a machine that would make every call choppy.
DEFAULT_LOAD_THRESHOLD = 0.7
# Processes kept warm (VAD loaded, services built): a call that finds one is answered at once.
DEFAULT_IDLE_PROCESSES = 2
# On SIGTERM the worker takes no new calls and waits this long for calls in progress: a clinic
# call rarely lasts 15 minutes (the verification grant's lifetime, too).
DEFAULT_DRAIN_TIMEOUT_SECONDS = 900
# Seconds of silence (caller and agent) before the agent asks whether the caller is still
# there; as long again, and it says goodbye and hangs up (agent/quiet_line.py).
DEFAULT_QUIET_LINE_SECONDS = 15.0
# Seconds the LLM may take to start a reply: OpenAI's own API, and a local server (which reads
# the whole prompt on the CPU before its first token).
DEFAULT_OPENAI_TIMEOUT_SECONDS = 10.0
DEFAULT_LOCAL_OPENAI_TIMEOUT_SECONDS = 60.0

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

LIVEKIT_SERVER_VARIABLES = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")
CLI_COMMANDS = ("console", "dev", "start", "connect")


def _optional_number(env: Mapping[str, str], name: str, *, minimum: float) -> float | None:
    return env_number(env, name, 0.0, minimum=minimum) if env_text(env, name) else None


def _optional_int(env: Mapping[str, str], name: str, *, minimum: int) -> int | None:
    return env_int(env, name, 0, minimum=minimum) if env_text(env, name) else None


def _optional_flag(env: Mapping[str, str], name: str) -> bool | None:
    return env_flag(env, name, False) if env_text(env, name) else None


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """How the agent talks to its LLM (OpenAI or any OpenAI-compatible server) and speech."""

    openai_model: str = "gpt-4.1-mini"
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    # None: the server's own default. Small local models behave better with a low temperature,
    # a cap on reply length and one tool call at a time (README, "No key? A local model").
    temperature: float | None = None
    max_tokens: int | None = None
    parallel_tool_calls: bool | None = None
    # How long a reply may take to start, per request (OPENAI_TIMEOUT): OpenAI answers within
    # LiveKit's 10 s; a local model on a small CPU may need a minute to read the prompt.
    timeout_seconds: float = DEFAULT_OPENAI_TIMEOUT_SECONDS
    tts_model: str = "gpt-4o-mini-tts"
    tts_voice: str = "ash"
    # None: OpenAI itself (speech never follows OPENAI_BASE_URL to a local LLM server)
    tts_base_url: str | None = None
    deepgram_model: str = "nova-3"
    # "multi": nova-3 hears English and Spanish (and switches mid-call), naming each
    # transcript's language, which the call follows (agent/language.py)
    deepgram_language: str = "multi"
    deepgram_api_key: str | None = None
    # None: Deepgram's own API root
    deepgram_base_url: str | None = None


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """What the LiveKit worker does with calls and processes (docs/operations.md)."""

    load_threshold: float = DEFAULT_LOAD_THRESHOLD
    idle_processes: int = DEFAULT_IDLE_PROCESSES
    drain_timeout_seconds: int = DEFAULT_DRAIN_TIMEOUT_SECONDS
    # LiveKit starts the LLM on the caller's transcript before the end of the turn is certain
    # and throws the reply away if the words change: faster answers, a few more tokens. Tools
    # still run only once the turn is confirmed, so no code is texted on a guess.
    preemptive_generation: bool = True
    # Before taking calls, ask each service whether it answers and takes its key
    # (agent/preflight.py). Off only where those requests cannot get through.
    startup_checks: bool = True
    livekit_url: str | None = None
    livekit_api_key: str | None = None
    livekit_api_secret: str | None = None


@dataclass(frozen=True, slots=True)
class AgentSettings:
    agent_name: str
    clinic_name: str
    options: CallOptions
    model: ModelSettings
    worker: WorkerSettings
    # /metrics: the port (None: off), the address it listens on, the multiprocess directory.
    metrics_port: int | None
    metrics_host: str
    metrics_dir: str
    # LOG_LEVEL, or None: the mode's own default (console: warnings only; dev/start: INFO).
    log_level: str | None
    production: bool
    # QUIET_LINE_SECONDS: silence before "are you still there?" (then as long again before
    # goodbye); None (0) never asks.
    quiet_line_seconds: float | None
    # RECORD_CALL_CONTENT: let LiveKit keep call audio, transcripts and tool arguments (its
    # project setting decides); off, it keeps timing and structure only (agent/telephony.py).
    record_call_content: bool
    # each layer's own settings, parsed from the same reading of the environment
    verification: VerificationSettings
    clinic: ClinicSettings

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, command: str = "start") -> AgentSettings:
        """Read every agent variable once. `command` picks mode-dependent defaults (the
        metrics port is on for `dev`/`start` only)."""
        production = is_production(env)
        openai_base_url = env_text(env, "OPENAI_BASE_URL") or None
        model = ModelSettings(
            openai_model=env_text(env, "OPENAI_MODEL", "gpt-4.1-mini"),
            openai_base_url=openai_base_url,
            openai_api_key=env_text(env, "OPENAI_API_KEY") or None,
            temperature=_optional_number(env, "OPENAI_TEMPERATURE", minimum=0.0),
            max_tokens=_optional_int(env, "OPENAI_MAX_TOKENS", minimum=1),
            parallel_tool_calls=_optional_flag(env, "OPENAI_PARALLEL_TOOL_CALLS"),
            timeout_seconds=env_number(
                env,
                "OPENAI_TIMEOUT",
                DEFAULT_LOCAL_OPENAI_TIMEOUT_SECONDS
                if openai_base_url
                else DEFAULT_OPENAI_TIMEOUT_SECONDS,
                minimum=1,
            ),
            tts_model=env_text(env, "OPENAI_TTS_MODEL", "gpt-4o-mini-tts"),
            tts_voice=env_text(env, "OPENAI_TTS_VOICE", "ash"),
            tts_base_url=env_text(env, "OPENAI_TTS_BASE_URL").rstrip("/") or None,
            deepgram_model=env_text(env, "DEEPGRAM_MODEL", "nova-3"),
            deepgram_language=env_text(env, "DEEPGRAM_LANGUAGE", "multi"),
            deepgram_api_key=env_text(env, "DEEPGRAM_API_KEY") or None,
            deepgram_base_url=env_text(env, "DEEPGRAM_BASE_URL").rstrip("/") or None,
        )
        if model.temperature is not None and model.temperature > 2:
            raise ConfigurationError(
                f"OPENAI_TEMPERATURE must be between 0 and 2, got {model.temperature:g}"
            )
        load_threshold = env_number(
            env, "WORKER_LOAD_THRESHOLD", DEFAULT_LOAD_THRESHOLD, minimum=0.01
        )
        if load_threshold > 1:
            raise ConfigurationError(
                "WORKER_LOAD_THRESHOLD must be at most 1 (a share of the CPU), "
                f"got {load_threshold:g}"
            )
        worker = WorkerSettings(
            load_threshold=load_threshold,
            idle_processes=env_int(env, "WORKER_IDLE_PROCESSES", DEFAULT_IDLE_PROCESSES, minimum=0),
            drain_timeout_seconds=env_int(
                env, "WORKER_DRAIN_TIMEOUT_SECONDS", DEFAULT_DRAIN_TIMEOUT_SECONDS, minimum=0
            ),
            preemptive_generation=env_flag(env, "PREEMPTIVE_GENERATION", True),
            startup_checks=env_flag(env, "STARTUP_CHECKS", True),
            livekit_url=env_text(env, "LIVEKIT_URL") or None,
            livekit_api_key=env_text(env, "LIVEKIT_API_KEY") or None,
            livekit_api_secret=env_text(env, "LIVEKIT_API_SECRET") or None,
        )
        log_level = env_text(env, "LOG_LEVEL").upper() or None
        if log_level == "WARN":
            log_level = "WARNING"
        if log_level is not None and log_level not in LOG_LEVELS:
            raise ConfigurationError(
                f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}"
            )
        clinic_name = env_text(env, "CLINIC_NAME", "the clinic")
        verification = VerificationSettings.from_env(
            with_app_defaults(env, {"OTP_BRAND_NAME": clinic_name, **PLUGIN_DEFAULTS})
        )
        return cls(
            agent_name=env_text(env, "AGENT_NAME", DEFAULT_AGENT_NAME),
            clinic_name=clinic_name,
            options=CallOptions(
                allow_phone_match_level2=env_flag(env, "ALLOW_NAME_DOB_PHONE_LEVEL2", True),
                staff_transfer_number=env_text(env, "STAFF_PHONE_NUMBER") or None,
                front_desk_phone=env_text(env, "FRONT_DESK_PHONE") or None,
                front_desk_hours=env_text(env, "FRONT_DESK_HOURS") or None,
                max_new_bookings=env_int(
                    env, "MAX_NEW_BOOKINGS", DEFAULT_MAX_NEW_BOOKINGS, minimum=1
                ),
                warm_transfer=_transfer_mode(env) == "warm",
                sip_outbound_trunk=env_text(env, "LIVEKIT_SIP_OUTBOUND_TRUNK") or None,
            ),
            model=model,
            worker=worker,
            metrics_port=_metrics_port(env, command),
            metrics_host=env_text(env, "METRICS_HOST", DEFAULT_METRICS_HOST),
            metrics_dir=env_text(env, "PROMETHEUS_MULTIPROC_DIR", DEFAULT_METRICS_DIR),
            log_level=log_level,
            production=production,
            quiet_line_seconds=env_number(
                env, "QUIET_LINE_SECONDS", DEFAULT_QUIET_LINE_SECONDS, minimum=0
            )
            or None,
            record_call_content=env_flag(env, "RECORD_CALL_CONTENT", False),
            verification=verification,
            clinic=ClinicSettings.from_env(env, default_region=verification.default_region),
        )

    def log_level_for(self, command: str, *, verbose: bool = False) -> int:
        """The root log level: `--verbose` > `LOG_LEVEL` > the mode's default."""
        if verbose:
            return logging.DEBUG
        if self.log_level is not None:
            return logging.getLevelName(self.log_level)  # type: ignore[no-any-return]
        return logging.WARNING if command == "console" else logging.INFO

    def missing_variables(self, command: str, text_only: bool) -> list[str]:
        """Variables `python -m agent <command>` needs that are unset (empty list: all there).

        An OpenAI-compatible server (`OPENAI_BASE_URL`) may run without a key; Deepgram is only
        needed when there is audio; the LiveKit server credentials only outside console mode.
        """
        if command not in CLI_COMMANDS:
            return []
        model, worker = self.model, self.worker
        have = {
            "OPENAI_API_KEY": model.openai_api_key,
            "DEEPGRAM_API_KEY": model.deepgram_api_key,
            "LIVEKIT_URL": worker.livekit_url,
            "LIVEKIT_API_KEY": worker.livekit_api_key,
            "LIVEKIT_API_SECRET": worker.livekit_api_secret,
        }
        needed: list[str] = []
        if not model.openai_base_url:
            needed.append("OPENAI_API_KEY")
        if not text_only:
            needed.append("DEEPGRAM_API_KEY")
            needed.append("OPENAI_API_KEY")  # speech (TTS) goes to OpenAI itself
        if command != "console":
            needed.extend(LIVEKIT_SERVER_VARIABLES)
        return [name for name in dict.fromkeys(needed) if not have[name]]


def _transfer_mode(env: Mapping[str, str]) -> str:
    """`STAFF_TRANSFER_MODE`: "cold" (default) or "warm" (which needs the outbound trunk)."""
    mode = env_text(env, "STAFF_TRANSFER_MODE", "cold").lower()
    if mode not in ("cold", "warm"):
        raise ConfigurationError(f"STAFF_TRANSFER_MODE must be cold or warm, got {mode!r}")
    if mode == "warm" and not env_text(env, "LIVEKIT_SIP_OUTBOUND_TRUNK"):
        raise ConfigurationError(
            "STAFF_TRANSFER_MODE=warm needs LIVEKIT_SIP_OUTBOUND_TRUNK (the trunk that dials staff)"
        )
    return mode


def _metrics_port(env: Mapping[str, str], command: str) -> int | None:
    """`METRICS_PORT` (default 9464 for dev/start; console only when set; 0 turns it off)."""
    raw = env_text(env, "METRICS_PORT")
    if not raw:
        return DEFAULT_METRICS_PORT if command in ("dev", "start") else None
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise ConfigurationError(f"METRICS_PORT must be a port number, got {raw!r}")
    return int(raw) or None


# The plugin's variables the clinic app gives defaults of its own (see the module docstring).
PLUGIN_DEFAULTS: Mapping[str, str] = {"OTP_ALLOWED_COUNTRIES": "US,CA"}


def with_app_defaults(env: Mapping[str, str], defaults: Mapping[str, str]) -> dict[str, str]:
    """`env` with `defaults` for the variables it leaves unset (or blank)."""
    merged = dict(env)
    for name, value in defaults.items():
        if not merged.get(name, "").strip():
            merged[name] = value
    return merged


def read_environment() -> dict[str, str]:
    """The process environment, with `.env.local` then `.env` filled in first (a variable
    already set wins): the one place the app reads it."""
    load_dotenv(".env.local")
    load_dotenv(".env")
    return dict(os.environ)


def load_settings(command: str = "start") -> AgentSettings:
    """The settings every entry point starts from (`ConfigurationError`: one line)."""
    return AgentSettings.from_env(read_environment(), command=command)
