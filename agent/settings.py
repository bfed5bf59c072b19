"""The agent's settings, read from the environment (every variable is in `.env.example`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from verification import ConfigurationError
from verification.env import env_flag, is_production

from .state import CallOptions

# Which variables each CLI mode cannot run without.
LIVEKIT_SERVER_VARIABLES = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")


@dataclass(frozen=True, slots=True)
class AgentSettings:
    agent_name: str
    openai_model: str
    openai_base_url: str | None
    openai_api_key: str | None
    tts_model: str
    tts_voice: str
    deepgram_model: str
    deepgram_api_key: str | None
    clinic_name: str
    clinic_db_path: str
    load_demo_data: bool
    options: CallOptions

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AgentSettings:
        def get(name: str, default: str = "") -> str:
            return env.get(name, "").strip() or default

        return cls(
            agent_name=get("AGENT_NAME", "clinic-agent"),
            openai_model=get("OPENAI_MODEL", "gpt-4.1-mini"),
            openai_base_url=get("OPENAI_BASE_URL") or None,
            openai_api_key=get("OPENAI_API_KEY") or None,
            tts_model=get("OPENAI_TTS_MODEL", "gpt-4o-mini-tts"),
            tts_voice=get("OPENAI_TTS_VOICE", "ash"),
            deepgram_model=get("DEEPGRAM_MODEL", "nova-3"),
            deepgram_api_key=get("DEEPGRAM_API_KEY") or None,
            clinic_name=get("CLINIC_NAME", "the clinic"),
            clinic_db_path=get("CLINIC_DB_PATH", "var/clinic.sqlite3"),
            load_demo_data=env_flag(env, "CLINIC_DEMO_DATA", not is_production(env)),
            options=CallOptions(
                allow_phone_match_level2=env_flag(env, "ALLOW_NAME_DOB_PHONE_LEVEL2", True),
                staff_transfer_number=get("STAFF_PHONE_NUMBER") or None,
                front_desk_phone=get("FRONT_DESK_PHONE") or None,
                front_desk_hours=get("FRONT_DESK_HOURS") or None,
            ),
        )


def missing_variables(command: str, text_only: bool, env: Mapping[str, str]) -> list[str]:
    """Variables `python -m agent <command>` needs that are unset (empty list: all there).

    An OpenAI-compatible server (`OPENAI_BASE_URL`) may run without a key; Deepgram is only
    needed when there is audio; the LiveKit server credentials only outside console mode.
    """
    if command not in ("console", "dev", "start", "connect"):
        return []
    needed: list[str] = []
    if not env.get("OPENAI_BASE_URL", "").strip():
        needed.append("OPENAI_API_KEY")
    if not text_only:
        needed.append("DEEPGRAM_API_KEY")
        if env.get("OPENAI_BASE_URL", "").strip():
            needed.append("OPENAI_API_KEY")  # speech (TTS) goes to OpenAI itself
    if command != "console":
        needed.extend(LIVEKIT_SERVER_VARIABLES)
    return [name for name in dict.fromkeys(needed) if not env.get(name, "").strip()]


DEFAULT_METRICS_PORT = 9464


def metrics_port(command: str, env: Mapping[str, str]) -> int | None:
    """Where /metrics is served: `METRICS_PORT` (default 9464 for dev/start; console only
    when set explicitly; 0 turns it off)."""
    raw = env.get("METRICS_PORT", "").strip()
    if not raw:
        return DEFAULT_METRICS_PORT if command in ("dev", "start") else None
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise ConfigurationError(f"METRICS_PORT must be a port number, got {raw!r}")
    return int(raw) or None
