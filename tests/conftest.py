"""Fixtures shared by every test folder.

Redis: a private `redis-server` is started for the session on a free port. Where the binary
is missing, Redis tests skip with a reason, unless `REQUIRE_REDIS=1` (set by `.ci/run`), in
which case they fail: CI never passes by skipping the store it is meant to prove.
PostgreSQL: the session creates a database of its own on the server and drops it at the end
(`tests/support/postgres.py`); skipped without a server unless `REQUIRE_POSTGRES=1`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.postgres import ADMIN_URL, REQUIRE_POSTGRES, PostgresDatabase
from tests.support.redis_server import RedisServer
from tests.support.sns_standin import SnsStandIn
from tests.support.twilio_standin import TwilioStandIn

REQUIRE_REDIS = os.environ.get("REQUIRE_REDIS") == "1"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    try:
        server = RedisServer(tmp_path_factory.mktemp("redis"))
        server.start()
    except (FileNotFoundError, RuntimeError) as exc:
        if REQUIRE_REDIS:
            pytest.fail(f"REQUIRE_REDIS=1 but no Redis server could be started: {exc}")
        pytest.skip(f"no redis-server available ({exc}); install Redis to run these tests")
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresDatabase]:
    """A database of this session's own on a real PostgreSQL server, dropped at the end.

    Skips with a reason when no server answers, unless `REQUIRE_POSTGRES=1` (set by `.ci/run`).
    """
    import psycopg

    database = PostgresDatabase()
    try:
        database.create()
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if REQUIRE_POSTGRES:
            pytest.fail(f"REQUIRE_POSTGRES=1 but no PostgreSQL at {ADMIN_URL}: {reason}")
        pytest.skip(f"no PostgreSQL server at {ADMIN_URL} ({reason}); set TEST_POSTGRES_URL")
    yield database
    database.drop()


@pytest.fixture
def key_prefix() -> str:
    """A key prefix of this test's own, so tests never see each other's keys."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "otp.sqlite3"


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[object]:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def twilio_standin() -> AsyncIterator[TwilioStandIn]:
    """Twilio's Messages and Calls APIs on loopback (tests/support/twilio_standin.py)."""
    async with TwilioStandIn() as standin:
        yield standin  # type: ignore[misc]


@pytest.fixture
async def sns_standin() -> AsyncIterator[SnsStandIn]:
    """SNS's Publish API on loopback (tests/support/sns_standin.py)."""
    async with SnsStandIn() as standin:
        yield standin  # type: ignore[misc]
