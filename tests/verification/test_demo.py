"""`python -m verification` (make demo) keeps a store of its own (issue 17.5)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from tests.support.agent_env import environ_without
from tests.support.settings import embedded_env
from tests.support.sms import StaticDirectory
from verification import OtpService

ROOT = Path(__file__).resolve().parents[2]
DEMO_NUMBER = "+14155550123"


async def console_call(env: dict[str, str]) -> None:
    """What `python -m agent console` leaves in the shared store: the phone's sends used."""
    console = OtpService.from_env(StaticDirectory({DEMO_NUMBER}), env)
    assert (await console.request_code(DEMO_NUMBER, session_id="console-call")).status == "sent"
    await console.drain()
    assert (await console.request_code(DEMO_NUMBER, session_id="x")).status == "rate_limited"
    await console.aclose()


def test_a_demo_right_after_a_console_call_is_not_refused(tmp_path: Path) -> None:
    """A console call has just used the demo number's sends, so the shared store would answer
    the demo "rate_limited"; the demo's own store answers "sent" and leaves nothing behind."""
    env = embedded_env(tmp_path, OTP_MAX_PHONE_SENDS="1")
    asyncio.run(console_call(env))
    before = sorted(p.name for p in tmp_path.iterdir())

    clean = environ_without(("OTP_", "REDIS_", "SMS_"))
    done = subprocess.run(
        [sys.executable, "-m", "verification"],
        input="415 555 0123\n\n",
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "[sent] I've texted a 6-digit code to the number ending in 0123" in done.stdout
    assert "your verification code is" in done.stderr  # the console stand-in printed it
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # the demo left no file
