"""The real CLI, as a developer runs it: the typed console, missing and rejected keys,
unreachable services, a machine without audio, and LiveKit's own entry point."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from unittest.mock import patch

import pytest

from agent.console import mask_numbers
from agent.settings import DEFAULT_METRICS_HOST, AgentSettings
from agent.wiring import build_services
from tests.support.agent_env import keyless_env
from tests.support.livekit_standin import LiveKitSipStandin
from tests.support.openai_standin import REPLY, OpenAIStandin
from tests.support.ports import free_port
from tests.support.typed_console import TypedConsole
from verification import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]
LIVEKIT_KEY = "APIstandin"
LIVEKIT_SECRET = "standin-secret-0123456789abcdef0123456789"


def _run(
    tmp_path: Path, args: list[str], timeout: float = 300, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=tmp_path,  # no .env.local here
        env=keyless_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _one_line(stderr: str) -> str:
    """The only line on stderr (and no traceback)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.fixture
async def openai_standin() -> AsyncIterator[OpenAIStandin]:
    server = OpenAIStandin(
        tool_rules={"text me": ("request_otp", {"patient_phone": "415 555 0123"})}
    )
    await server.start()
    yield server
    await server.stop()


# --- help -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--help"], ["console [--text]", "download-files", "dev", "start", "--verbose"]),
        (["help"], ["console [--text]", "download-files"]),
        (["console", "--help"], ["python -m agent console [--text]", "OPENAI_BASE_URL"]),
        (["console", "--text", "-h"], ["python -m agent console [--text]"]),
        (["start", "--help"], ["python -m agent start", "LIVEKIT_URL"]),
        (["download-files", "--help"], ["python -m agent download-files"]),
    ],
)
def test_help_needs_no_keys(tmp_path: Path, args: list[str], expected: list[str]) -> None:
    """Help is printed whatever the environment lacks (no key, no server, no audio)."""
    done = _run(tmp_path, ["-m", "agent", *args], timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    for text in expected:
        assert text in done.stdout


def test_an_unknown_command_lists_the_commands(tmp_path: Path) -> None:
    done = _run(tmp_path, ["-m", "agent", "bogus"], timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert done.stderr.startswith("agent: unknown command 'bogus'\n")
    for command in ("console", "dev", "start", "connect", "download-files"):
        assert f"  {command} " in done.stderr


# --- missing settings -------------------------------------------------------------------------


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
    done = _run(tmp_path, ["-m", "agent", *args], timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    line = _one_line(done.stderr)
    assert f"set {missing}" in line
    # the keyless way, and for the voice console the real command for typing instead
    assert "OPENAI_BASE_URL" in line
    if args == ["console"]:
        assert "python -m agent console --text" in line


def test_production_without_pepper_refuses_to_start(tmp_path: Path) -> None:
    done = _run(
        tmp_path, ["-m", "agent", "console", "--text"], APP_ENV="production", OPENAI_API_KEY="k"
    )
    assert done.returncode == 2
    assert "OTP_PEPPER" in _one_line(done.stderr)


# --- services that refuse or do not answer ----------------------------------------------------


async def test_a_rejected_key_is_one_line_naming_the_service(tmp_path: Path) -> None:
    server = OpenAIStandin(accepted_key="the-right-key")
    await server.start()
    try:
        done = await asyncio.to_thread(
            _run,
            tmp_path,
            ["-m", "agent", "console", "--text"],
            OPENAI_BASE_URL=server.base_url,
            OPENAI_API_KEY="a-wrong-key",
        )
    finally:
        await server.stop()
    assert done.returncode == 1
    line = _one_line(done.stderr)
    assert "OpenAI-compatible server rejected OPENAI_API_KEY" in line
    assert "a-wrong-key" not in line
    assert server.refused >= 1 and server.requests == []  # nothing ran past the check


@pytest.mark.parametrize(("status", "rejected"), [(401, True), (403, False)])
async def test_only_a_refused_key_fails_the_check(status: int, rejected: bool) -> None:
    """401 is a wrong key; 403 is a valid key without permission to list models (OpenAI's
    restricted keys), which must not stop the agent."""
    from agent.preflight import check_openai

    server = OpenAIStandin(accepted_key="right", refusal_status=status)
    await server.start()
    try:
        problem = await check_openai(server.base_url, "wrong")
        fine = await check_openai(server.base_url, "right")
    finally:
        await server.stop()
    assert fine is None and server.refused == 1
    assert (problem is not None) is rejected


def test_an_unreachable_llm_server_is_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    done = _run(tmp_path, ["-m", "agent", "console", "--text"], OPENAI_BASE_URL=url)
    assert done.returncode == 1
    assert f"cannot reach the OpenAI-compatible server at {url}/models" in _one_line(done.stderr)


async def test_start_with_an_unreachable_livekit_server_exits_non_zero(
    tmp_path: Path, openai_standin: OpenAIStandin
) -> None:
    url = f"ws://127.0.0.1:{free_port()}"
    done = await asyncio.to_thread(
        _run,
        tmp_path,
        ["-m", "agent", "start"],
        OPENAI_BASE_URL=openai_standin.base_url,
        OPENAI_API_KEY="k",
        DEEPGRAM_API_KEY="d",
        LIVEKIT_URL=url,
        LIVEKIT_API_KEY=LIVEKIT_KEY,
        LIVEKIT_API_SECRET=LIVEKIT_SECRET,
    )
    assert done.returncode == 1
    assert f"agent: cannot reach the LiveKit server at {url}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


async def test_livekit_entry_point_finds_the_server_and_a_rejected_key_exits_non_zero(
    tmp_path: Path, openai_standin: OpenAIStandin
) -> None:
    """`python -m livekit.agents start agent/server.py` (what `lk agent start` runs) discovers
    `agent.server.server` and gets the same loud failure."""
    livekit = LiveKitSipStandin(accepted_key=LIVEKIT_KEY, accepted_secret=LIVEKIT_SECRET)
    await livekit.start()
    try:
        done = await asyncio.to_thread(
            _run,
            tmp_path,
            ["-m", "livekit.agents", "start", str(ROOT / "agent" / "server.py")],
            OPENAI_BASE_URL=openai_standin.base_url,
            OPENAI_API_KEY="k",
            DEEPGRAM_API_KEY="d",
            LIVEKIT_URL=livekit.url.replace("http://", "ws://"),
            LIVEKIT_API_KEY=LIVEKIT_KEY,
            LIVEKIT_API_SECRET="not-the-secret-0123456789abcdef0123456789",
        )
    finally:
        await livekit.stop()
    assert done.returncode == 1, done.stderr
    assert "rejected LIVEKIT_API_KEY / LIVEKIT_API_SECRET (HTTP 401)" in done.stderr
    assert livekit.authorization, "the check never reached the LiveKit stand-in"
    assert "Traceback" not in done.stderr + done.stdout


async def test_lk_agent_console_with_a_rejected_key_is_one_line(tmp_path: Path) -> None:
    """What `lk agent console` runs (LiveKit's TCP console on our server): the rejected key is
    one line and exit 1 before any audio is wired."""
    server = OpenAIStandin(accepted_key="the-right-key")
    await server.start()
    try:
        done = await asyncio.to_thread(
            _run,
            tmp_path,
            [
                "-m",
                "livekit.agents",
                "console",
                str(ROOT / "agent" / "server.py"),
                "--connect-addr",
                f"127.0.0.1:{free_port()}",
            ],
            OPENAI_BASE_URL=server.base_url,
            OPENAI_API_KEY="a-wrong-key",
        )
    finally:
        await server.stop()
    assert done.returncode == 1
    assert "OpenAI-compatible server rejected OPENAI_API_KEY" in _one_line(done.stderr)


def _audio_missing() -> str | None:
    """What this machine lacks for the voice console, or None."""
    try:
        import sounddevice  # type: ignore[import-untyped]
    except OSError:
        return "PortAudio"
    try:
        sounddevice.query_devices(kind="input")
    except (sounddevice.PortAudioError, ValueError):
        return "microphone"
    try:
        sounddevice.query_devices(kind="output")
    except (sounddevice.PortAudioError, ValueError):
        return "speaker"
    return None


def test_voice_console_without_audio_is_one_line_pointing_to_text_mode(tmp_path: Path) -> None:
    lacking = _audio_missing()
    if lacking is None:
        pytest.skip("this machine has PortAudio, a microphone and a speaker")
    if lacking == "PortAudio" and os.environ.get("REQUIRE_PORTAUDIO") == "1":
        pytest.fail("REQUIRE_PORTAUDIO=1 but the PortAudio library is missing")
    done = _run(tmp_path, ["-m", "agent", "console"], OPENAI_API_KEY="k", DEEPGRAM_API_KEY="d")
    assert done.returncode == 1
    line = _one_line(done.stderr)
    assert lacking in line and "python -m agent console --text" in line


@pytest.mark.parametrize(
    ("path", "expected"), [(None, "main:server"), ("agent/server.py", "agent.server:server")]
)
def test_livekit_discovers_the_server(
    monkeypatch: pytest.MonkeyPatch, path: str | None, expected: str
) -> None:
    """What `lk agent dev` / `python -m livekit.agents start [path]` find, with or without a
    path (`main.py` is the first file LiveKit looks for)."""
    from livekit.agents import AgentServer
    from livekit.agents.cli.discover import get_import_data

    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))  # discovery prepends the project root
    found = get_import_data(path=Path(path) if path else None)
    assert found.import_string == expected
    module = sys.modules[found.module_data.module_import_str]
    assert isinstance(getattr(module, found.app_name), AgentServer)


# --- the typed console ------------------------------------------------------------------------


async def test_console_text_mode_shows_greeting_conversation_tools_and_sms(
    tmp_path: Path, openai_standin: OpenAIStandin
) -> None:
    env = keyless_env(
        tmp_path,
        OPENAI_BASE_URL=openai_standin.base_url,
        OPENAI_TEMPERATURE="0.2",
        OPENAI_MAX_TOKENS="120",
        OPENAI_PARALLEL_TOOL_CALLS="false",
    )
    with TypedConsole(ROOT, env) as console:
        # the greeting is the agent's first turn, before the caller is asked to type
        assert await console.wait_for("you > "), console.tail()
        first_turn = console.text.split("you > ")[0]
        assert "agent > Thank you for calling Bayview Clinic" in first_turn, console.tail()
        console.type("Hi, please text me a code at 415 555 0123")
        # the development SMS stand-in prints where the developer is looking: this terminal
        assert await console.wait_for("[DEV SMS - not sent; development stand-in]"), console.tail()
        assert await console.wait_for("Bayview Clinic: your verification code is"), console.tail()
        # one line for the tool call, with its outcome and a masked number
        assert await console.wait_for(
            "  · request_otp → ok: I've texted a 6-digit code to the number ending in 0123"
        ), console.tail()
        assert await console.wait_for("agent > (relaying) I've texted a 6-digit code"), (
            console.tail()
        )
        console.end_of_input()  # Ctrl-D: the call ends and says what it used
        assert await console.wait_for("call ended: 80 LLM tokens in, 14 out"), console.tail()
        assert console.exit_status() == 0
    text = console.text
    assert "DEBUG" not in text and "Traceback" not in text, console.tail()
    assert "event loop blocked" not in text and 'File "' not in text, console.tail()
    assert "Deprecated" not in text and "WARNING" not in text, console.tail()
    tool_line = next(line for line in text.splitlines() if "request_otp →" in line)
    assert "415" not in tool_line and "0123" in tool_line

    first, second = openai_standin.requests[:2]
    assert first["messages"][-1] == {
        "role": "user",
        "content": "Hi, please text me a code at 415 555 0123",
    }
    assert {t["function"]["name"] for t in first["tools"]} >= {"request_otp", "verify_otp"}
    assert second["messages"][-1]["role"] == "tool"  # the tool ran in the agent process
    # the small-model settings reach the server with every request
    for request in (first, second):
        assert request["temperature"] == 0.2
        assert request["max_tokens"] == 120
        assert request["parallel_tool_calls"] is False


async def test_a_model_server_failing_mid_call_is_one_line_and_the_call_goes_on(
    tmp_path: Path,
) -> None:
    """llama.cpp answered HTTP 500 to a tool call it could not parse: LiveKit retried, gave
    the reply up, and the console ended in a traceback. Now the failure is one line naming
    the service, the caller hears an apology, and the next turn works."""
    model = OpenAIStandin(fail_on={"broken": "Failed to parse tool call"})
    await model.start()
    try:
        env = keyless_env(tmp_path, OPENAI_BASE_URL=model.base_url)
        with TypedConsole(ROOT, env) as console:
            assert await console.wait_for("you > "), console.tail()
            console.type("this turn is broken")
            assert await console.wait_for(
                "agent > I'm sorry, I didn't manage to answer that. Could you say it again?"
            ), console.tail()
            assert await console.wait_for("agent: the language model failed:"), console.tail()
            console.type("hello again")
            assert await console.wait_for(f"agent > {REPLY}"), console.tail()
            console.end_of_input()
            assert await console.wait_for("call ended:"), console.tail()
            assert console.exit_status() == 0
    finally:
        await model.stop()
    text = console.text
    assert "Traceback" not in text and 'File "' not in text, console.tail()
    assert "retrying" not in text and "WARNING" not in text, console.tail()
    [failure] = [line for line in text.splitlines() if "the language model failed" in line]
    assert "500" in failure or "Failed to parse tool call" in failure


async def test_a_model_server_that_keeps_failing_ends_the_call_with_the_front_desk(
    tmp_path: Path,
) -> None:
    model = OpenAIStandin(fail_on={"": "server down"})  # every request fails
    await model.start()
    try:
        env = keyless_env(tmp_path, OPENAI_BASE_URL=model.base_url, FRONT_DESK_PHONE="415 555 0100")
        with TypedConsole(ROOT, env) as console:
            assert await console.wait_for("you > "), console.tail()
            console.type("hello")
            assert await console.wait_for("Could you say it again?"), console.tail()
            console.type("hello?")
            assert await console.wait_for("Please call our front desk at 415 555 0100. Goodbye."), (
                console.tail()
            )
            assert await console.wait_for("(ended by the agent: the language model failed"), (
                console.tail()
            )
            assert console.exit_status() == 1
    finally:
        await model.stop()
    assert "Traceback" not in console.text, console.tail()


# --- settings ---------------------------------------------------------------------------------


def test_settings_defaults_are_safe_and_deliberate() -> None:
    settings = AgentSettings.from_env({})
    assert settings.clinic.database_url == "sqlite:///var/clinic.sqlite3"
    # the app's defaults for the plugin: the text names the clinic, codes stay in US and CA
    assert settings.verification.brand_name == settings.clinic_name == "the clinic"
    assert settings.verification.policy.allowed_countries == frozenset({"US", "CA"})
    named = AgentSettings.from_env({"CLINIC_NAME": "Bayview Clinic"})
    assert named.verification.brand_name == "Bayview Clinic"
    assert (
        AgentSettings.from_env(
            {"CLINIC_NAME": "Bayview Clinic", "OTP_BRAND_NAME": "Bayview"}
        ).verification.brand_name
        == "Bayview"
    )
    assert settings.metrics_host == DEFAULT_METRICS_HOST == "127.0.0.1"
    assert (
        settings.metrics_port == 9464
        and AgentSettings.from_env({}, command="console").metrics_port is None
    )
    assert settings.model.temperature is None and settings.model.max_tokens is None
    assert settings.model.parallel_tool_calls is None
    worker = settings.worker
    assert (worker.load_threshold, worker.idle_processes, worker.drain_timeout_seconds) == (
        0.7,
        2,
        900,
    )
    assert worker.preemptive_generation is True and worker.startup_checks is True
    assert settings.log_level_for("console") == logging.WARNING
    assert settings.log_level_for("console", verbose=True) == logging.DEBUG
    assert settings.log_level_for("start") == logging.INFO
    assert settings.options.max_new_bookings == 3


def test_settings_read_the_booking_bound() -> None:
    assert AgentSettings.from_env({"MAX_NEW_BOOKINGS": "5"}).options.max_new_bookings == 5
    with pytest.raises(ConfigurationError, match="MAX_NEW_BOOKINGS"):
        AgentSettings.from_env({"MAX_NEW_BOOKINGS": "0"})


def test_settings_read_the_small_model_and_worker_knobs() -> None:
    settings = AgentSettings.from_env(
        {
            "OPENAI_TEMPERATURE": "0.3",
            "OPENAI_MAX_TOKENS": "200",
            "OPENAI_PARALLEL_TOOL_CALLS": "off",
            "WORKER_LOAD_THRESHOLD": "0.5",
            "WORKER_IDLE_PROCESSES": "4",
            "WORKER_DRAIN_TIMEOUT_SECONDS": "600",
            "PREEMPTIVE_GENERATION": "false",
            "STARTUP_CHECKS": "no",
            "METRICS_HOST": "10.1.2.3",
            "LOG_LEVEL": "debug",
            "CLINIC_DATABASE_URL": "postgresql://clinic@db:5432/clinic",
        }
    )
    assert (settings.model.temperature, settings.model.max_tokens) == (0.3, 200)
    assert settings.model.parallel_tool_calls is False
    assert settings.worker.load_threshold == 0.5 and settings.worker.idle_processes == 4
    assert settings.worker.drain_timeout_seconds == 600
    assert settings.worker.preemptive_generation is False
    assert settings.worker.startup_checks is False
    assert settings.metrics_host == "10.1.2.3"
    assert settings.log_level_for("console") == logging.DEBUG
    assert not settings.clinic.on_sqlite
    assert (settings.clinic.pool_size, settings.clinic.timeout_seconds) == (4, 5.0)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OPENAI_TEMPERATURE", "hot"),
        ("OPENAI_TEMPERATURE", "3"),
        ("OPENAI_MAX_TOKENS", "0"),
        ("OPENAI_PARALLEL_TOOL_CALLS", "maybe"),
        ("WORKER_LOAD_THRESHOLD", "1.5"),
        ("LOG_LEVEL", "loud"),
        ("CLINIC_DATABASE_URL", "mysql://db/clinic"),
        ("METRICS_PORT", "http"),
    ],
)
def test_bad_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        AgentSettings.from_env({name: value})


PRODUCTION = {
    "APP_ENV": "production",
    "OTP_PEPPER": "p" * 32,
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "token",
    "TWILIO_PHONE_NUMBER": "+14155550100",
}


@pytest.mark.parametrize("shared_codes", [True, False])
async def test_production_warns_when_records_stay_on_one_machine_but_codes_are_shared(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, shared_codes: bool
) -> None:
    env = {
        **PRODUCTION,
        "CLINIC_DATABASE_URL": f"sqlite:///{tmp_path / 'clinic.sqlite3'}",
        "OTP_SQLITE_PATH": str(tmp_path / "otp.sqlite3"),
    }
    if shared_codes:
        env["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"  # built, never dialled
    caplog.set_level(logging.WARNING, logger="agent.wiring")
    services = build_services(AgentSettings.from_env(env))
    await services.aclose()
    warned = [r.getMessage() for r in caplog.records if r.name == "agent.wiring"]
    if shared_codes:
        assert len(warned) == 1 and "Point CLINIC_DATABASE_URL at PostgreSQL" in warned[0]
    else:
        assert warned == []


async def test_prewarm_builds_a_process_services_before_its_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LiveKit's setup_fnc builds what a call uses (records, OTP service and SMS senders, the
    LLM client) once per process, off the call's event loop; the entrypoint takes them."""
    from livekit.agents import JobExecutorType, JobProcess
    from livekit.plugins import openai

    from agent import ClinicAgent
    from agent.server import prewarm
    from verification import OtpService
    from verification.livekit import OtpToolset, schemas

    for name in list(os.environ):
        if name.startswith(("OPENAI_", "DEEPGRAM_", "LIVEKIT_", "TWILIO_", "SMS_", "REDIS_")):
            monkeypatch.delenv(name)
    for name, value in keyless_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    proc = JobProcess(executor_type=JobExecutorType.THREAD, user_arguments=None, http_proxy=None)
    await asyncio.to_thread(prewarm, proc)
    services = proc.userdata["services"]
    try:
        assert isinstance(services.otp, OtpService)
        assert isinstance(proc.userdata["llm"], openai.LLM)
        assert proc.userdata["settings"].clinic.database_url.endswith("clinic.sqlite3")
        assert "vad" in proc.userdata and "turn_detector" in proc.userdata
        assert gc.get_freeze_count() > 0  # what lives as long as the process: out of the GC
        # the call's agent and code tools find their schemas built
        with patch.object(schemas, "build_strict_openai_schema", side_effect=AssertionError):
            ClinicAgent(clinic_name="Bayview Clinic")
            OtpToolset(services.otp, session_id="call")
    finally:
        gc.unfreeze()
        await services.aclose()


def test_tool_lines_mask_phone_numbers_and_long_digit_runs() -> None:
    said = "Texted +1 415 555 0123 and (415) 555-0188; ref 40299177."
    masked = mask_numbers(said)
    assert "415" not in masked and "40299177" not in masked
    assert "ending in 0123" in masked and "ending in 0188" in masked
