"""The environment a test gives an agent process it starts: this machine's, without any key
or provider setting a developer may have exported, with the records, codes and pepper in the
test's own folder (nothing shared with `var/` or another test)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What a developer's shell may hold that must not reach a test's agent.
PROVIDER_PREFIXES = ("OPENAI_", "DEEPGRAM_", "LIVEKIT_", "TWILIO_", "SMS_", "REDIS_", "LOG_LEVEL")


def records_url(directory: Path) -> str:
    """Where an agent started with `keyless_env(directory)` keeps its clinic records."""
    return f"sqlite:///{directory / 'clinic.sqlite3'}"


def environ_without(prefixes: tuple[str, ...]) -> dict[str, str]:
    """This machine's environment without the variables whose names start with `prefixes`."""
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def keyless_env(directory: Path, **extra: str) -> dict[str, str]:
    """No keys, private files in `directory`, the repository importable; then `extra`."""
    env = environ_without(PROVIDER_PREFIXES)
    env.update(
        CLINIC_DATABASE_URL=records_url(directory),
        OTP_SQLITE_PATH=str(directory / "otp.sqlite3"),
        OTP_PEPPER_FILE=str(directory / "otp-pepper"),
        CLINIC_NAME="Bayview Clinic",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env
