"""`clinic.open_records(url)`: the backend is chosen by URL alone, and a bad URL is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinic import (
    ClinicDB,
    ClinicRecords,
    PostgresRecords,
    demo,
    open_records,
    shared_records_warning,
)
from tests.support.records import Backend
from verification.env import ConfigurationError


def test_sqlite_urls_name_a_file() -> None:
    relative = open_records("sqlite:///var/clinic.sqlite3")
    assert isinstance(relative, ClinicDB) and relative.path == "var/clinic.sqlite3"
    absolute = open_records("sqlite:////srv/clinic/records.sqlite3", timeout=2)
    assert isinstance(absolute, ClinicDB) and absolute.path == "/srv/clinic/records.sqlite3"
    assert absolute.busy_timeout == 2


def test_postgresql_urls_name_a_server() -> None:
    for url in ("postgresql://clinic:secret@db.internal:5432/clinic", "postgres://db/clinic"):
        records = open_records(url, pool_size=7)
        assert isinstance(records, PostgresRecords) and isinstance(records, ClinicRecords)
        assert records.pool_size == 7
        assert "secret" not in records.where


@pytest.mark.parametrize(
    "url", ["", "clinic.sqlite3", "sqlite:///", "mysql://db/clinic", "redis://localhost"]
)
def test_other_urls_are_refused_in_one_line(url: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        open_records(url)
    assert "CLINIC_DATABASE_URL" in str(err.value) and "\n" not in str(err.value)


async def test_the_url_alone_picks_the_backend(backend: Backend) -> None:
    records = open_records(backend.url)
    assert await records.load_demo()
    jane = await records.find_patient(demo.JANE.full_name, demo.JANE.date_of_birth)
    assert jane is not None and await records.is_on_file(jane.phone)
    assert len(await records.appointments_for(jane.id)) == 2
    await records.aclose()


def test_shared_codes_with_records_in_one_file_warn(tmp_path: Path) -> None:
    sqlite = f"sqlite:///{tmp_path}/clinic.sqlite3"
    warning = shared_records_warning(sqlite, redis_url="redis://redis:6379/0")
    assert warning is not None and "PostgreSQL" in warning and "double-book" in warning
    assert shared_records_warning(sqlite, redis_url=None) is None
    assert shared_records_warning(sqlite, redis_url="  ") is None
    assert shared_records_warning("postgresql://db/clinic", redis_url="redis://r") is None
