"""Fixtures for plugin calls (the call itself is in `tests/support/plugin_calls.py`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.constants import ALSO_ON_FILE, NOT_ON_FILE, ON_FILE
from tests.support.conversation import generated_codes
from tests.support.leaks import assert_no_leak
from tests.support.plugin_calls import PluginCall, assert_no_code_in_conversation, open_plugin_call
from verification import SqliteOtpStore


@pytest.fixture
async def call(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[PluginCall]:
    """One scripted call on SQLite; afterwards no generated code is in the conversation, the
    project's logs or the metrics, and no full phone number is in the logs."""
    caplog.set_level(logging.DEBUG)
    async with open_plugin_call(SqliteOtpStore(tmp_path / "otp.sqlite3")) as opened:
        yield opened
        assert_no_code_in_conversation(opened)
        codes = generated_codes(opened.sms)
    assert_no_leak(caplog.records, codes, {ON_FILE, ALSO_ON_FILE, NOT_ON_FILE}, where="plugin")
