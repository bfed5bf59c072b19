"""The store-parametrised service fixture: every service test runs on SQLite and on Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.constants import ON_FILE, PEPPER
from tests.support.services import ServiceFactory
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpPolicy, OtpService, OtpStore, RedisOtpStore, SqliteOtpStore


@pytest.fixture(params=["sqlite", "redis"])
async def store(
    request: pytest.FixtureRequest, sqlite_path: Path, key_prefix: str
) -> AsyncIterator[OtpStore]:
    backend: OtpStore
    if request.param == "sqlite":
        backend = SqliteOtpStore(sqlite_path)
    else:
        redis_url = request.getfixturevalue("redis_url")
        backend = RedisOtpStore.from_url(redis_url, key_prefix=key_prefix)
    yield backend
    await backend.aclose()


@pytest.fixture
def sender() -> RecordingSmsSender:
    return RecordingSmsSender()


@pytest.fixture
def make_service(store: OtpStore, sender: RecordingSmsSender) -> ServiceFactory:
    def make(policy: OtpPolicy | None = None, **kwargs: object) -> OtpService:
        return OtpService(
            store,
            sender,
            StaticDirectory({ON_FILE}),
            policy or OtpPolicy(),
            pepper=PEPPER,
            clinic_name="Bayview Clinic",
            **kwargs,  # type: ignore[arg-type]
        )

    return make
