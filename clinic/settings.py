"""`ClinicSettings`: everything the clinic records are configured by, parsed once at start.

The app reads its environment once and hands the mapping here; `ClinicSettings.from_env`
parses it with `verification.env`'s readers (a bad value is a one-line `ConfigurationError`
naming the variable) and checks what can be checked before the first call: the database URL's
kind and the time zone. Nothing in `clinic` reads `os.environ`.

* `CLINIC_DATABASE_URL` -> `database_url` (default `sqlite:///var/clinic.sqlite3`);
* `CLINIC_DB_POOL_SIZE` -> `pool_size`, PostgreSQL connections per process (default 4);
* `CLINIC_DB_TIMEOUT_SECONDS` -> `timeout_seconds`, the longest wait for a connection, a lock
  or a statement, and SQLite's busy timeout (default 5);
* `CLINIC_TIMEZONE` -> `timezone`, an IANA name (unset: the machine's zone);
* `CLINIC_DEMO_DATA` -> `demo_data`, load the demo patients into an empty database (default
  true, false in `APP_ENV=production`).

`default_region` is not the clinic's own variable: the app passes the phone region it
configured for verification (`DEFAULT_PHONE_REGION`), so a number is parsed the same way
everywhere.

    settings = ClinicSettings.from_env(env, default_region=verification_settings.default_region)
    records = settings.open_records()
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from verification.env import (
    ConfigurationError,
    env_flag,
    env_int,
    env_number,
    env_text,
    is_production,
)
from verification.settings import region

from .clock import Clock, clinic_clock, time_zone

if TYPE_CHECKING:
    from .records import ClinicRecords

DEFAULT_DATABASE_URL: Final = "sqlite:///var/clinic.sqlite3"
DEFAULT_POOL_SIZE: Final = 4
DEFAULT_TIMEOUT_SECONDS: Final = 5.0
SQLITE_PREFIX: Final = "sqlite:///"
POSTGRES_SCHEMES: Final = ("postgresql://", "postgres://")


def is_sqlite_url(url: str) -> bool:
    """Whether `url` names records in one SQLite file (shared by one machine's processes only)."""
    return url.strip().lower().startswith("sqlite:")


def check_database_url(url: str) -> str:
    """The URL, stripped, if it names records we can open; else a one-line
    `ConfigurationError` (never echoing the URL: it may hold a password)."""
    text = url.strip()
    lowered = text.lower()
    if lowered.startswith(SQLITE_PREFIX) and len(text) > len(SQLITE_PREFIX):
        return text
    if lowered.startswith(POSTGRES_SCHEMES):
        return text
    raise ConfigurationError(
        "CLINIC_DATABASE_URL must be sqlite:///path/to/file.sqlite3 or"
        " postgresql://user:password@host:5432/database"
    )


@dataclass(frozen=True, slots=True)
class ClinicSettings:
    """The records' configuration (see the module docstring); checked when built."""

    database_url: str = DEFAULT_DATABASE_URL
    pool_size: int = DEFAULT_POOL_SIZE
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    timezone: str | None = None
    demo_data: bool = True
    default_region: str = "US"

    def __post_init__(self) -> None:
        object.__setattr__(self, "database_url", check_database_url(self.database_url))
        if self.pool_size < 1:
            raise ConfigurationError(
                f"CLINIC_DB_POOL_SIZE must be at least 1, got {self.pool_size}"
            )
        if not self.timeout_seconds > 0:
            raise ConfigurationError(
                f"CLINIC_DB_TIMEOUT_SECONDS must be above 0, got {self.timeout_seconds}"
            )
        if self.timezone is not None:
            try:
                time_zone(self.timezone)
            except ValueError as exc:
                raise ConfigurationError(str(exc)) from None
        object.__setattr__(
            self, "default_region", region(self.default_region, "DEFAULT_PHONE_REGION")
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, default_region: str = "US") -> ClinicSettings:
        """Parse the clinic's variables from `env` (the app's environment, read once)."""
        return cls(
            database_url=env_text(env, "CLINIC_DATABASE_URL", DEFAULT_DATABASE_URL),
            pool_size=env_int(env, "CLINIC_DB_POOL_SIZE", DEFAULT_POOL_SIZE, minimum=1),
            timeout_seconds=env_number(
                env, "CLINIC_DB_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS, minimum=0.1
            ),
            timezone=env_text(env, "CLINIC_TIMEZONE") or None,
            demo_data=env_flag(env, "CLINIC_DEMO_DATA", not is_production(env)),
            default_region=default_region,
        )

    @property
    def on_sqlite(self) -> bool:
        """Records in one SQLite file: shared by the processes of one machine only."""
        return is_sqlite_url(self.database_url)

    def clock(self) -> Clock:
        """Naive clinic-local time in `timezone`."""
        return clinic_clock(self.timezone)

    def open_records(self, *, clock: Clock | None = None) -> ClinicRecords:
        """The records these settings name (`clinic.open_records(settings)`)."""
        from .factory import open_records

        return open_records(self, clock=clock)


__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_POOL_SIZE",
    "DEFAULT_TIMEOUT_SECONDS",
    "ClinicSettings",
    "check_database_url",
    "is_sqlite_url",
]
