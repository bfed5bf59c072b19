"""`REDIS_CLUSTER=true` selects the Cluster client for `REDIS_URL`; unset keeps standalone."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

from tests.support.settings import embedded_env
from tests.support.sms import StaticDirectory
from verification import ConfigurationError, OtpService, RedisOtpStore, VerificationSettings

PHONE = "+14155550123"


@pytest.mark.parametrize("flag", ["true", "TRUE", "1", "yes", "on"])
async def test_redis_cluster_true_selects_the_cluster_client(tmp_path: Path, flag: str) -> None:
    env = embedded_env(tmp_path, REDIS_URL="redis://127.0.0.1:7000/0", REDIS_CLUSTER=flag)
    VerificationSettings.from_env(env)
    service = OtpService.from_env(StaticDirectory(set()), env)  # nothing connects yet
    assert isinstance(service.store, RedisOtpStore)
    assert isinstance(service.store.client, RedisCluster)
    assert service.store.keys_for(PHONE, "s").code == "otp:{+14155550123}:code:s"
    await service.aclose()


@pytest.mark.parametrize("flag", [None, "", "false", "0", "no", "off"])
async def test_without_redis_cluster_the_client_is_standalone(
    tmp_path: Path, flag: str | None
) -> None:
    extra = {"REDIS_URL": "redis://127.0.0.1:6399/0"}
    if flag is not None:
        extra["REDIS_CLUSTER"] = flag
    service = OtpService.from_env(StaticDirectory(set()), embedded_env(tmp_path, **extra))
    assert isinstance(service.store, RedisOtpStore)
    assert type(service.store.client) is aioredis.Redis
    assert isinstance(service.store.client.connection_pool, aioredis.BlockingConnectionPool)
    await service.aclose()


@pytest.mark.parametrize(
    ("extra", "complaint"),
    [
        ({"REDIS_CLUSTER": "true"}, "needs REDIS_URL"),
        ({"REDIS_URL": "redis://127.0.0.1:7000/0", "REDIS_CLUSTER": "maybe"}, "REDIS_CLUSTER"),
    ],
)
def test_broken_cluster_settings_refuse_to_start(
    tmp_path: Path, extra: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ConfigurationError, match=complaint):
        VerificationSettings.from_env(embedded_env(tmp_path, **extra))
    with pytest.raises(ConfigurationError, match=complaint):
        OtpService.from_env(StaticDirectory(set()), embedded_env(tmp_path, **extra))


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:7000/1", "unix:///run/redis.sock", "http://127.0.0.1:7000"]
)
def test_urls_cluster_cannot_use_refuse_to_start(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigurationError):
        OtpService.from_env(
            StaticDirectory(set()), embedded_env(tmp_path, REDIS_URL=url, REDIS_CLUSTER="1")
        )


async def test_from_env_on_the_live_cluster(
    tmp_path: Path, cluster_url: str, key_prefix: str
) -> None:
    env = embedded_env(
        tmp_path, REDIS_URL=cluster_url, REDIS_CLUSTER="true", REDIS_KEY_PREFIX=key_prefix
    )
    service = OtpService.from_env(StaticDirectory({PHONE}), env)  # console SMS stand-in

    assert (await service.request_code(PHONE, session_id="c")).status == "sent"
    guess = await service.verify_code(PHONE, "000000", session_id="c")
    assert guess.status in ("wrong_code", "verified")  # "verified" once in a million runs
    if guess.status == "wrong_code":
        assert guess.attempts_left == service.policy.max_attempts - 1
    await service.aclose()
