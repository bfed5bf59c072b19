"""`ClinicSettings`: the records' configuration, parsed once from the mapping the app hands
over (never from `os.environ`), checked at start, and enough to open the records."""

from __future__ import annotations

import ast
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from clinic import ClinicDB, ClinicSettings, PostgresRecords, open_records
from tests.support.records import Backend
from verification.env import ConfigurationError

CLINIC = Path(__file__).resolve().parents[2] / "clinic"


def test_defaults_are_the_embedded_setup() -> None:
    settings = ClinicSettings.from_env({})
    assert settings == ClinicSettings(
        database_url="sqlite:///var/clinic.sqlite3",
        pool_size=4,
        timeout_seconds=5.0,
        timezone=None,
        demo_data=True,
        default_region="US",
    )
    assert settings.on_sqlite


def test_every_variable_is_read_from_the_mapping_given() -> None:
    env = {
        "CLINIC_DATABASE_URL": " postgresql://clinic:secret@db.internal:5432/clinic ",
        "CLINIC_DB_POOL_SIZE": "7",
        "CLINIC_DB_TIMEOUT_SECONDS": "2.5",
        "CLINIC_TIMEZONE": "Europe/London",
        "CLINIC_DEMO_DATA": "no",
    }
    settings = ClinicSettings.from_env(env, default_region="gb")
    assert settings == ClinicSettings(
        database_url="postgresql://clinic:secret@db.internal:5432/clinic",
        pool_size=7,
        timeout_seconds=2.5,
        timezone="Europe/London",
        demo_data=False,
        default_region="GB",
    )
    assert not settings.on_sqlite


def test_production_loads_no_demo_patients_unless_asked() -> None:
    assert not ClinicSettings.from_env({"APP_ENV": "production"}).demo_data
    assert ClinicSettings.from_env({"APP_ENV": "production", "CLINIC_DEMO_DATA": "1"}).demo_data


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CLINIC_DATABASE_URL", "mysql://db/clinic"),
        ("CLINIC_DATABASE_URL", "clinic.sqlite3"),
        ("CLINIC_DB_POOL_SIZE", "0"),
        ("CLINIC_DB_POOL_SIZE", "four"),
        ("CLINIC_DB_TIMEOUT_SECONDS", "0"),
        ("CLINIC_DB_TIMEOUT_SECONDS", "nan"),
        ("CLINIC_TIMEZONE", "Mars/Olympus_Mons"),
        ("CLINIC_DEMO_DATA", "maybe"),
    ],
)
def test_a_bad_value_is_refused_at_start_in_one_line_naming_it(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        ClinicSettings.from_env({variable: value})
    message = str(err.value)
    assert variable in message and "\n" not in message


def test_a_password_in_a_bad_url_is_not_repeated() -> None:
    with pytest.raises(ConfigurationError) as err:
        ClinicSettings.from_env({"CLINIC_DATABASE_URL": "mysql://clinic:hunter2@db/clinic"})
    assert "hunter2" not in str(err.value)


def test_the_region_the_app_gives_is_checked() -> None:
    with pytest.raises(ConfigurationError, match="DEFAULT_PHONE_REGION"):
        ClinicSettings.from_env({}, default_region="XX")


def test_settings_open_the_records_they_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/clinic.sqlite3"
    env = {
        "CLINIC_DATABASE_URL": url,
        "CLINIC_TIMEZONE": "Asia/Tokyo",
        "CLINIC_DB_TIMEOUT_SECONDS": "2",
    }
    settings = ClinicSettings.from_env(env, default_region="GB")
    for records in (settings.open_records(), open_records(settings)):
        assert isinstance(records, ClinicDB)
        assert records.path == f"{tmp_path}/clinic.sqlite3" and records.busy_timeout == 2
        assert records.default_region == "GB"
        tokyo = datetime.now(ZoneInfo("Asia/Tokyo")).replace(tzinfo=None)
        assert abs(records.now() - tokyo) < timedelta(seconds=5)
        records.close()
    postgres = ClinicSettings(database_url="postgres://db/clinic", pool_size=9).open_records()
    assert isinstance(postgres, PostgresRecords) and postgres.pool_size == 9
    with pytest.raises(TypeError):
        open_records(settings, pool_size=3)


async def test_the_settings_alone_pick_the_backend(backend: Backend) -> None:
    records = ClinicSettings.from_env({"CLINIC_DATABASE_URL": backend.url}).open_records()
    assert await records.load_demo()
    assert await records.find_patient("Jane Doe", "1985-04-12") is not None
    await records.aclose()


def test_no_clinic_module_reads_the_environment() -> None:
    """The app reads its environment once and passes `ClinicSettings` down."""
    readers = set()
    for source in CLINIC.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                readers.add(f"{source.relative_to(CLINIC.parent)}:{node.lineno}")
    assert readers == set()
