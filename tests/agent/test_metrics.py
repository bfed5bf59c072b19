"""Metrics: scraped from LiveKit's own /metrics server after a scripted call, and what a call
cost (LLM tokens through the real OpenAI plugin against the local stand-in)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import aiohttp
import pytest
from livekit.agents.telemetry.http_server import HttpServer

from agent import CallState, ClinicAgent, Services
from agent.settings import AgentSettings
from agent.usage import report_call_usage
from agent.wiring import build_session
from clinic import ClinicDB
from tests.support.clinic_calls import Call, identify_jane, say, verify_by_text
from tests.support.openai_standin import COMPLETION_TOKENS, PROMPT_TOKENS_PER_MESSAGE, OpenAIStandin
from tests.support.ports import free_port
from tests.support.sms import RecordingSmsSender
from verification import OtpService, SqliteOtpStore
from verification.metrics import safe_label


def _value(body: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in body.splitlines():
        metric, _, value = line.rpartition(" ")
        if metric.startswith(name + "{"):
            found = ",".join(sorted(metric[len(name) + 1 : -1].split(",")))
            if found == wanted:
                return float(value)
    return 0.0


async def _scrape(port: int) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        assert response.status == 200
        return await response.text()


async def test_a_scripted_call_shows_up_in_metrics_without_numbers_or_codes(call: Call) -> None:
    server = HttpServer("127.0.0.1", free_port())  # what `python -m agent start` serves
    await server.start()
    try:
        before = await _scrape(server.port)
        await identify_jane(call)
        code = await verify_by_text(call)
        await say(call, "cancel it", "cancel_appointment", appointment_id="A00000")
        after = await _scrape(server.port)
    finally:
        await server.aclose()

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew("clinic_otp_requests_total", outcome="sent") == 1
    assert grew("clinic_otp_verifications_total", outcome="verified") == 1
    assert grew("clinic_tool_seconds_count", tool="request_otp", result="ok") == 1
    assert grew("clinic_tool_seconds_count", tool="cancel_appointment", result="refused") == 1
    labels = " ".join(re.findall(r"\{[^}]*\}", after))
    assert code not in after
    assert "4155550123" not in labels and "0123" not in labels


def test_provider_error_codes_become_labels_only_when_harmless() -> None:
    assert safe_label(21610) == "21610"
    assert safe_label("timeout") == "timeout"
    assert safe_label("123456") == "other"  # could be a code
    assert safe_label("+14155550123") == "other"
    assert safe_label("x" * 100) == "other"
    assert safe_label(None) == "other"


def test_metrics_port_defaults() -> None:
    def port(command: str, env: dict[str, str]) -> int | None:
        return AgentSettings.from_env(env, command=command).metrics_port

    assert port("start", {}) == 9464
    assert port("dev", {"METRICS_PORT": "9100"}) == 9100
    assert port("console", {}) is None
    assert port("start", {"METRICS_PORT": "0"}) is None


async def test_what_a_call_used_goes_to_metrics_and_one_log_line(
    clinic: ClinicDB, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agent.usage")
    standin = OpenAIStandin()
    await standin.start()
    metrics = HttpServer("127.0.0.1", free_port())
    await metrics.start()
    otp = OtpService(
        SqliteOtpStore(tmp_path / "otp.sqlite3"),
        RecordingSmsSender(),
        clinic,
        pepper=b"usage-pepper-0123456789abcdef",
    )
    settings = AgentSettings.from_env(
        {"OPENAI_BASE_URL": standin.base_url, "OPENAI_MODEL": "standin-model"},
        command="console",
    )
    state = CallState(services=Services(clinic=clinic, otp=otp), session_id="call-usage")
    try:
        before = await _scrape(metrics.port)
        async with build_session(settings, state, audio=False) as session:
            await session.start(ClinicAgent(clinic_name="Bayview Clinic"))
            await session.run(user_input="Hello there")
            usage = report_call_usage(session, state.session_id)
        after = await _scrape(metrics.port)
    finally:
        await metrics.aclose()
        await standin.stop()
        await otp.aclose()

    sent = PROMPT_TOKENS_PER_MESSAGE * len(standin.requests[0]["messages"])
    assert (usage.llm_input_tokens, usage.llm_output_tokens) == (sent, COMPLETION_TOKENS)
    for direction, tokens in (("input", sent), ("output", COMPLETION_TOKENS)):
        grew = _value(after, "clinic_llm_tokens_total", model="standin-model", direction=direction)
        assert (
            grew
            - _value(before, "clinic_llm_tokens_total", model="standin-model", direction=direction)
            == tokens
        )
    [line] = [r for r in caplog.records if r.name == "agent.usage"]
    assert line.getMessage().startswith(
        f"call usage: {sent} LLM tokens in, {COMPLETION_TOKENS} out"
    )
    assert line.__dict__["session_id"] == "call-usage"
