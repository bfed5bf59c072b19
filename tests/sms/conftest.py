"""Fixtures for the SMS tests: provider stand-ins on loopback and a catch-all log capture."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port
from tests.support.standin_server import self_signed_tls
from tests.support.vonage_standin import VonageStandIn


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    pytest.importorskip("cryptography", reason="the Vonage stand-in needs a TLS certificate")
    return self_signed_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def vonage_standin(
    tls: tuple[ssl.SSLContext, Path], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[VonageStandIn]:
    context, cert_path = tls
    # The Vonage SDK speaks only https; requests trusts the stand-in's certificate via this.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert_path))
    async with VonageStandIn(context) as standin:
        yield standin  # type: ignore[misc]


@pytest.fixture
def refused_port() -> int:
    return free_port()


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self) -> list[str]:
        """Everything a log sink could see: the message, arguments, extra fields, traceback."""
        formatter = logging.Formatter()
        out = []
        for record in self.records:
            parts = [record.getMessage(), formatter.format(record)]
            parts += [repr(value) for value in record.__dict__.values()]
            out.append("\n".join(parts))
        return out


@pytest.fixture
def all_logs() -> Iterator[_Collector]:
    """Capture every record at DEBUG from every logger (SDK loggers included)."""
    collector = _Collector()
    manager = logging.root.manager
    saved: dict[logging.Logger, int] = {}
    loggers = [logging.getLogger(n) for n in ("twilio", "botocore", "boto3", "urllib3", "vonage")]
    loggers += [lg for lg in manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    for lg in [logging.root, *loggers]:
        saved[lg] = lg.level
        lg.setLevel(logging.DEBUG)
        if lg is logging.root or not lg.propagate:
            lg.addHandler(collector)
    logging.disable(logging.NOTSET)
    try:
        yield collector
    finally:
        for lg, level in saved.items():
            lg.setLevel(level)
            if collector in lg.handlers:
                lg.removeHandler(collector)
