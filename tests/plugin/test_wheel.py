"""The plugin installs alone: `uv build` makes a wheel holding one import package,
`verification`, and a fresh virtual environment that installs that wheel and nothing else
(its declared requirements, no extras, nothing from this checkout on its path) runs a bare
LiveKit host agent with `OtpToolset`, driven by the scripted model. The clinic app is not
there: `agent`, `clinic` and `examples` cannot be imported.

Offline throughout: the wheel is built by the backend inside uv; the environment gets the
plugin's locked requirements from uv's cache (`uv sync --frozen --offline --no-default-groups`:
no app, no dev tools, no extras), then the wheel itself, then `uv pip check` proves the wheel's
declared requirements are met. The example host (`examples/account_balance.py`) runs from the
repository file against the installed wheel, with the OpenAI plugin its text console uses (the
`example` dependency group).
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
TIMEOUT_SECONDS = 180
APP_PACKAGES = ("agent", "clinic", "examples", "prompts", "tests")
EXTRAS = ("redis", "twilio", "boto3", "vonage", "livekit.plugins.openai")

HOST = f"""
import asyncio, importlib.util

from livekit.agents import Agent, AgentSession
from scripted_llm import ScriptedLLM
from verification import OtpService, SmsReceipt, SqliteOtpStore
from verification.livekit import OtpToolset



def installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # its parent package is not there either
        return False


absent = [name for name in {APP_PACKAGES!r} if installed(name)]
assert absent == [], absent
extras = [name for name in {EXTRAS!r} if installed(name)]
assert extras == [], extras  # no provider SDK: the plugin runs without its extras


class Directory:
    async def is_on_file(self, phone_e164: str) -> bool:
        return phone_e164 == "+14155550123"


class Outbox:  # the published protocol: `send` only (aclose is optional)
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, to: str, body: str) -> SmsReceipt:
        self.sent.append(body)
        return SmsReceipt("outbox", str(len(self.sent)))


async def main() -> None:
    outbox = Outbox()
    otp = OtpService(SqliteOtpStore("otp.sqlite3"), outbox, Directory(), pepper=b"p" * 16)
    tools = OtpToolset(otp, session_id="host-call")
    model = ScriptedLLM()
    async with AgentSession(llm=model) as session:
        await session.start(Agent(instructions="Verify the caller's phone.", tools=[tools]))
        model.call("request_otp", patient_phone="415 555 0123")
        await session.run(user_input="please text my phone, 415 555 0123")
        await otp.drain()
        code = outbox.sent[0].split("code is ")[1][:6]
        model.call("verify_otp", code=code)
        await session.run(user_input=f"the code is {{' '.join(code)}}")
        assert tools.verified_phone == "+14155550123", tools.verified_phone
    await otp.aclose()
    print("host verified", tools.verified_phone[-4:])


asyncio.run(main())
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
    """(wheel, python of a fresh environment that installed it and its requirements only)."""
    uv = _uv()
    out = tmp_path_factory.mktemp("wheel")
    _run([uv, "build", "--wheel", "--offline", "--quiet", "-o", str(out)], ROOT)
    [wheel] = out.glob("*.whl")
    venv = out / "venv"
    _run([uv, "venv", "--offline", "--quiet", str(venv)], out)
    _run(
        [uv, "sync", "--frozen", "--offline", "--no-default-groups", "--no-install-project",
         "--quiet"],
        ROOT,
        UV_PROJECT_ENVIRONMENT=str(venv),
    )  # fmt: skip
    python = venv / "bin" / "python"
    _run([uv, "pip", "install", "--offline", "--no-deps", "--quiet", "--python", str(python),
          str(wheel)], out)  # fmt: skip
    _run([uv, "pip", "check", "--python", str(python)], out)
    yield wheel, python


def test_the_wheel_holds_the_plugin_alone(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        lines = archive.read(metadata).decode().splitlines()
    extras = {line.split(":", 1)[1].strip() for line in lines if line.startswith("Provides-Extra")}
    required = [
        line.split(":", 1)[1].strip()
        for line in lines
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    top_level = {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(
        (".dist-info", ".data")
    )}  # fmt: skip
    assert top_level == {"verification"}
    assert {"verification/livekit/__init__.py", "verification/py.typed"} <= names
    assert {"verification/stores/lua/check.lua", "verification/languages/es/messages.toml"} <= (
        names
    )
    assert not any("__pycache__" in name for name in names)
    assert {"redis", "twilio", "aws", "vonage", "metrics"} <= extras
    # the plugin's own needs only: LiveKit's agents without provider extras, phone numbers
    assert any(r.startswith("livekit-agents") and "[" not in r for r in required), required
    assert not any(r.startswith(("psycopg", "yoyo", "python-dotenv")) for r in required)


def test_a_bare_host_agent_verifies_a_phone_with_the_wheel_alone(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, python = installed
    shutil.copy(ROOT / "tests" / "support" / "scripted_llm.py", tmp_path / "scripted_llm.py")
    (tmp_path / "host.py").write_text(HOST)
    done = _run([str(python), "host.py"], tmp_path)
    assert "host verified 0123" in done.stdout, done.stdout + done.stderr


async def test_the_example_host_runs_against_the_installed_wheel(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    """`examples/account_balance.py` imports only the plugin and LiveKit: with the wheel and
    LiveKit's OpenAI plugin (its text console's model) installed, it runs from its file."""
    _, python = installed
    _run(
        [_uv(), "sync", "--frozen", "--offline", "--no-default-groups", "--group", "example",
         "--no-install-project", "--inexact", "--quiet"],
        ROOT,
        UV_PROJECT_ENVIRONMENT=str(python.parent.parent),
    )  # fmt: skip
    model = OpenAIStandin(tool_rules={"text me": ("request_otp", {"patient_phone": "caller"})})
    model.tool_rules["at 415"] = ("request_otp", {"patient_phone": "415 555 0123"})
    await model.start()
    try:
        done = await asyncio.to_thread(
            subprocess.run,
            [str(python), str(ROOT / "examples" / "account_balance.py"), "console", "--text"],
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
    assert "I've texted a 6-digit code to the number ending in 0123" in done.stdout
    assert "ending in 0123" in done.stderr  # the development SMS block, on stderr
