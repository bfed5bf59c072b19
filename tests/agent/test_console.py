"""The real CLI, as a developer runs it: `python -m agent console --text` and missing keys."""

from __future__ import annotations

import asyncio
import ctypes.util
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.openai_standin import OpenAIStandin

ROOT = Path(__file__).resolve().parents[2]


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The machine's environment without any keys, plus private file locations."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "DEEPGRAM_", "LIVEKIT_", "TWILIO_", "SMS_", "REDIS_"))
    }
    env.update(
        CLINIC_DB_PATH=str(tmp_path / "clinic.sqlite3"),
        OTP_SQLITE_PATH=str(tmp_path / "otp.sqlite3"),
        OTP_PEPPER_FILE=str(tmp_path / "otp-pepper"),
        CLINIC_NAME="Bayview Clinic",
    )
    env.update(extra)
    return env


@pytest.fixture
async def openai_standin() -> AsyncIterator[OpenAIStandin]:
    server = OpenAIStandin(
        tool_rules={"text me": ("request_otp", {"patient_phone": "415 555 0123"})}
    )
    await server.start()
    yield server
    await server.stop()


@pytest.mark.parametrize(
    ("args", "missing"),
    [
        (["console", "--text"], "OPENAI_API_KEY"),
        (["console"], "OPENAI_API_KEY, DEEPGRAM_API_KEY"),
        (["start"], "OPENAI_API_KEY, DEEPGRAM_API_KEY, LIVEKIT_URL, LIVEKIT_API_KEY"),
    ],
)
def test_missing_keys_fail_with_one_clear_line(
    tmp_path: Path, args: list[str], missing: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agent", *args],
        cwd=tmp_path,  # no .env.local here
        env=_clean_env(tmp_path, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"set {missing}" in done.stderr


def test_production_without_pepper_refuses_to_start(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agent", "console", "--text"],
        cwd=tmp_path,
        env=_clean_env(tmp_path, PYTHONPATH=str(ROOT), APP_ENV="production", OPENAI_API_KEY="k"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "OTP_PEPPER" in done.stderr and "Traceback" not in done.stderr


async def test_console_text_mode_greets_and_talks_to_an_openai_compatible_server(
    tmp_path: Path, openai_standin: OpenAIStandin
) -> None:
    if ctypes.util.find_library("portaudio") is None:
        if os.environ.get("REQUIRE_PORTAUDIO") == "1":
            pytest.fail("REQUIRE_PORTAUDIO=1 but the PortAudio library is missing")
        pytest.skip("LiveKit's console needs the PortAudio library (apt-get install libportaudio2)")
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "agent", "console", "--text"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=ROOT,
        env=_clean_env(tmp_path, OPENAI_BASE_URL=openai_standin.base_url),
    )
    os.close(terminal)
    screen = bytearray()

    async def wait_for(text: str, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and text.encode() not in screen:
            ready, _, _ = select.select([controller], [], [], 0)
            if ready:
                try:
                    screen.extend(os.read(controller, 65536))
                except OSError:
                    return False
            else:
                await asyncio.sleep(0.05)
        return text.encode() in screen

    try:
        assert await wait_for("Thank you for calling Bayview Clinic"), _tail(screen)
        os.write(controller, b"Hi, please text me a code\r")
        # the development SMS stand-in prints where the developer is looking: this terminal
        assert await wait_for("[DEV SMS - not sent; development stand-in]"), _tail(screen)
        assert await wait_for("Bayview Clinic: your verification code is"), _tail(screen)
        assert await wait_for("(relaying) I've texted a 6-digit code to the number"), _tail(screen)
    finally:
        process.terminate()
        process.wait(timeout=20)
        os.close(controller)
    first, second = openai_standin.requests[:2]
    assert first["messages"][-1] == {"role": "user", "content": "Hi, please text me a code"}
    assert {t["function"]["name"] for t in first["tools"]} >= {"request_otp", "verify_otp"}
    assert second["messages"][-1]["role"] == "tool"  # the tool ran in the agent process


def _tail(screen: bytearray) -> str:
    return screen[-3000:].decode(errors="replace")
