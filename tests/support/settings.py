"""Environment mappings for configuration tests: the embedded setup, in a test's own folder."""

from __future__ import annotations

from pathlib import Path


def embedded_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The defaults (SQLite, console SMS, dev pepper) with files under `tmp_path`, plus `extra`."""
    env = {
        "OTP_PEPPER_FILE": str(tmp_path / "pepper"),
        "OTP_SQLITE_PATH": str(tmp_path / "otp.sqlite3"),
    }
    env.update(extra)
    return env
