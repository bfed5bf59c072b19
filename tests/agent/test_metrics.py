"""Metrics: scraped from LiveKit's own /metrics server after a scripted call."""

from __future__ import annotations

import re

import aiohttp
from livekit.agents.telemetry.http_server import HttpServer

from agent.settings import metrics_port
from tests.agent.conftest import Call
from tests.agent.test_scripted_evals import identify_jane, say, verify_by_text
from tests.support.redis_server import free_port
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
    assert metrics_port("start", {}) == 9464
    assert metrics_port("dev", {"METRICS_PORT": "9100"}) == 9100
    assert metrics_port("console", {}) is None
    assert metrics_port("start", {"METRICS_PORT": "0"}) is None
