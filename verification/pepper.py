"""The server-side secret that code digests are keyed with.

In production it must come from `OTP_PEPPER` (a secret manager, not the image); the rules for
it are checked where the environment is read (`VerificationSettings.from_env`). In
development one is generated on first use and kept in a 0600 file, so digests survive
restarts and every call process on the machine shares it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

MIN_PEPPER_BYTES = 16
DEFAULT_PEPPER_FILE = "var/otp-pepper"


def development_pepper(path: Path) -> bytes:
    """Read the dev pepper, creating it (0600) on first run.

    The file is written under a temporary name and hard-linked into place, so a call process
    racing this one sees either no file or a complete one, never a half-written pepper.
    """
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_hex(32).encode())
        with contextlib.suppress(FileExistsError):  # another process won: everyone uses its pepper
            os.link(staging, path)
    finally:
        staging.unlink(missing_ok=True)
    return path.read_bytes().strip()
