"""The project installs: `uv build` makes a wheel, and a fresh virtual environment that
installs it (nothing from this checkout on its path) imports the plugin, builds its toolset
and a `ClinicAgent` (its instructions ship inside the wheel, in `agent/prompts/`), and runs
the example's text console against a local OpenAI-compatible stand-in.

Offline throughout: the wheel is built by the backend inside uv, and the environment gets the
locked dependencies from uv's cache (`uv sync --frozen --offline` into the new environment),
then the wheel itself, then `uv pip check` proves the wheel's declared requirements are met.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.openai_standin import OpenAIStandin

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 120

PROBE = """
import examples.account_balance, verification
from agent import ClinicAgent
from examples.account_balance import AccountDirectory
from verification import ConsoleSmsSender, OtpService, SqliteOtpStore
from verification.livekit import OtpToolset

for module in (verification, examples.account_balance):
    assert "site-packages" in module.__file__, module.__file__
store = SqliteOtpStore("otp.sqlite3")
otp = OtpService(store, ConsoleSmsSender(), AccountDirectory(), pepper=b"p" * 16)
tools = OtpToolset(otp, session_id="probe")
clinic_agent = ClinicAgent(clinic_name="Harbour Clinic")
assert "Harbour Clinic" in clinic_agent.instructions
assert sorted(t.info.name for t in tools.tools) == ["request_otp", "verify_otp"]
print("installed ok:", type(tools).__module__)
"""


def _uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if found is None and (Path.home() / ".local/bin/uv").exists():
        found = str(Path.home() / ".local/bin/uv")
    if found is None:
        pytest.skip("uv is not installed: the wheel is built with uv")
    return found


def _env(**extra: str) -> dict[str, str]:
    """This machine's environment without this checkout's virtual environment or path."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return {**env, **extra}


def _run(args: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args, cwd=cwd, env=_env(**extra), capture_output=True, text=True, timeout=TIMEOUT_SECONDS
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(wheel, python of a fresh environment that installed it)."""
    uv = _uv()
    out = tmp_path_factory.mktemp("wheel")
    _run([uv, "build", "--wheel", "--offline", "--quiet", "-o", str(out)], ROOT)
    [wheel] = out.glob("*.whl")
    venv = out / "venv"
    _run([uv, "venv", "--offline", "--quiet", str(venv)], out)
    _run(
        [uv, "sync", "--frozen", "--offline", "--no-dev", "--no-install-project", "--quiet"],
        ROOT,
        UV_PROJECT_ENVIRONMENT=str(venv),
    )
    python = venv / "bin" / "python"
    _run([uv, "pip", "install", "--offline", "--no-deps", "--quiet", "--python", str(python),
          str(wheel)], out)  # fmt: skip
    _run([uv, "pip", "check", "--python", str(python)], out)
    yield wheel, python


def test_the_wheel_carries_the_packages_their_data_and_the_extras(
    installed: tuple[Path, Path],
) -> None:
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        extras = {
            line.split(":", 1)[1].strip()
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Provides-Extra:")
        }
    assert {"verification/livekit/__init__.py", "examples/account_balance.py"} <= names
    assert "agent/prompts/instructions.txt" in names
    assert {"verification/stores/lua/check.lua", "verification/stores/lua/issue.lua"} <= names
    assert not any(name.startswith(("tests/", "bench/")) for name in names)
    assert not any("__pycache__" in name for name in names)
    assert {"aws", "vonage"} <= extras


def test_a_fresh_environment_imports_the_plugin_and_builds_the_clinic_agent(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, python = installed
    done = _run([str(python), "-c", PROBE], tmp_path)
    assert "installed ok: verification.livekit.toolset" in done.stdout


async def test_the_example_runs_from_the_installed_package(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, python = installed
    model = OpenAIStandin(tool_rules={"text me": ("request_otp", {"patient_phone": "caller"})})
    model.tool_rules["at 415"] = ("request_otp", {"patient_phone": "415 555 0123"})
    await model.start()
    try:
        done = await asyncio.to_thread(
            subprocess.run,
            [str(python), "-m", "examples.account_balance", "console", "--text"],
            cwd=tmp_path,
            env=_env(
                OPENAI_BASE_URL=model.base_url,
                OPENAI_API_KEY="",
                OTP_SQLITE_PATH=str(tmp_path / "otp.sqlite3"),
                OTP_PEPPER_FILE=str(tmp_path / "pepper"),
            ),
            input="please text my phone at 415 555 0123\n",
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
        )
    finally:
        await model.stop()
    assert done.returncode == 0, done.stderr
    assert "agent > Hi! I can tell you your balance" in done.stdout
    assert "agent > (relaying) I've texted a 6-digit code to the number ending in 0123" in (
        done.stdout
    )
    assert "ending in 0123" in done.stderr  # the development SMS block, on stderr
