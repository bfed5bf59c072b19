"""Fixtures for the clinic tests: real SQLite files under tmp_path and a clock we control."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from clinic import ClinicDB
from tests.clinic.support import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "clinic.db"


@pytest.fixture
async def db(db_path: Path, clock: FakeClock) -> AsyncIterator[ClinicDB]:
    database = ClinicDB(db_path, clock=clock)
    yield database
    await database.aclose()


@pytest.fixture
async def demo_db(db_path: Path, clock: FakeClock) -> AsyncIterator[ClinicDB]:
    database = ClinicDB.demo(db_path, clock=clock)
    yield database
    await database.aclose()
