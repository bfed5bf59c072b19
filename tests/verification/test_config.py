"""OtpService.from_env / from_settings: the environment picks store and sender; production
refuses unsafe ones."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.settings import embedded_env
from tests.support.sms import StaticDirectory
from verification import (
    ConfigurationError,
    ConsoleSmsSender,
    FailoverSmsSender,
    KnowledgePolicy,
    OtpService,
    RedisOtpStore,
    SqliteOtpStore,
    VerificationSettings,
)

PEPPER = "p" * 32


async def test_embedded_defaults_are_sqlite_console_and_a_dev_pepper(tmp_path: Path) -> None:
    service = OtpService.from_env(StaticDirectory(set()), embedded_env(tmp_path))
    assert isinstance(service.store, SqliteOtpStore)
    assert service.store.path == tmp_path / "otp.sqlite3"
    assert isinstance(service.sender, ConsoleSmsSender)
    assert (tmp_path / "pepper").exists()
    assert service.policy.ttl_seconds == 300 and service.clinic_name == "the clinic"
    await service.aclose()


async def test_redis_url_selects_redis_and_policy_comes_from_env(tmp_path: Path) -> None:
    env = embedded_env(
        tmp_path,
        REDIS_URL="redis://127.0.0.1:6399/0",
        REDIS_KEY_PREFIX="clinicA",
        OTP_TTL_SECONDS="120",
        OTP_MAX_ATTEMPTS="5",
        OTP_BRAND_NAME="Bayview Clinic",
        DEFAULT_PHONE_REGION="gb",
    )
    service = OtpService.from_env(StaticDirectory(set()), env)
    assert isinstance(service.store, RedisOtpStore)
    assert service.store.keys_for("+14155550123", "s").code == "clinicA:{+14155550123}:code:s"
    assert (service.policy.ttl_seconds, service.policy.max_attempts) == (120, 5)
    assert "Bayview Clinic" in service.sms_body("123456")
    assert service.default_region == "GB"
    await service.aclose()


async def test_twilio_credentials_select_twilio(tmp_path: Path) -> None:
    env = embedded_env(
        tmp_path,
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="token",
        TWILIO_PHONE_NUMBER="+14155550100",
    )
    service = OtpService.from_env(StaticDirectory(set()), env)
    assert isinstance(service.sender, FailoverSmsSender)
    await service.aclose()


@pytest.mark.parametrize(
    ("extra", "complaint"),
    [
        ({"APP_ENV": "production"}, "OTP_PEPPER"),
        ({"APP_ENV": "production", "OTP_PEPPER": PEPPER}, "console SMS"),
        ({"OTP_TTL_SECONDS": "five"}, "OTP_TTL_SECONDS must be a number"),
        ({"OTP_MAX_ATTEMPTS": "0"}, "max_attempts must be at least 1"),
        ({"TWILIO_ACCOUNT_SID": "AC1"}, "TWILIO_AUTH_TOKEN"),
    ],
)
def test_unsafe_or_broken_settings_refuse_to_start(
    tmp_path: Path, extra: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ConfigurationError, match=complaint):
        VerificationSettings.from_env(embedded_env(tmp_path, **extra))
    with pytest.raises(ConfigurationError, match=complaint):
        OtpService.from_env(StaticDirectory(set()), embedded_env(tmp_path, **extra))


def test_production_with_pepper_and_a_provider_starts(tmp_path: Path) -> None:
    VerificationSettings.from_env(
        embedded_env(
            tmp_path,
            APP_ENV="production",
            OTP_PEPPER=PEPPER,
            TWILIO_ACCOUNT_SID="AC" + "0" * 32,
            TWILIO_AUTH_TOKEN="token",
            TWILIO_MESSAGING_SERVICE_SID="MG" + "0" * 32,
        )
    )


async def test_a_real_provider_shares_its_breakers_through_the_store(tmp_path: Path) -> None:
    """Each call runs in a process of its own: a breaker kept in memory would start closed
    on every call, so the environment's sender keeps its breakers in the OTP store."""
    twilio = {
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "token",
        "TWILIO_PHONE_NUMBER": "+14155550100",
    }
    service = OtpService.from_env(StaticDirectory(set()), embedded_env(tmp_path, **twilio))
    assert isinstance(service.sender, FailoverSmsSender) and service.sender.shares_breakers
    await service.aclose()


async def test_knowledge_policy_comes_from_env(tmp_path: Path) -> None:
    env = embedded_env(
        tmp_path,
        KBA_MAX_FAILURES_PER_RECORD="2",
        KBA_MAX_FAILURES_PER_CALLER="4",
        KBA_FAILURE_WINDOW_SECONDS="600",
        KBA_MAX_RECORDS_PER_NAME="7",
        KBA_MAX_FAILURES_PER_PROVEN_PHONE="2",
    )
    expected = KnowledgePolicy(2, 4, 600, max_records_per_name=7, max_failures_per_proven_phone=2)
    assert VerificationSettings.from_env(env).knowledge_policy == expected
    assert VerificationSettings.from_env(embedded_env(tmp_path)).knowledge_policy == (
        KnowledgePolicy(max_records_per_name=10, max_failures_per_proven_phone=3)
    )
    service = OtpService.from_env(StaticDirectory(set()), env)
    assert service.identity_throttle().policy == expected
    for variable, value, complaint in [
        ("KBA_MAX_FAILURES_PER_RECORD", "lots", "KBA_MAX_FAILURES_PER_RECORD"),
        ("KBA_MAX_FAILURES_PER_CALLER", "0", "max_failures_per_caller"),
        ("KBA_MAX_RECORDS_PER_NAME", "0", "max_records_per_name"),
        ("KBA_MAX_FAILURES_PER_PROVEN_PHONE", "-1", "max_failures_per_proven_phone"),
    ]:
        with pytest.raises(ConfigurationError, match=complaint):
            VerificationSettings.from_env(embedded_env(tmp_path, **{variable: value}))
    await service.aclose()


def test_phone_ceilings_come_from_env(tmp_path: Path) -> None:
    env = embedded_env(tmp_path, OTP_MAX_PHONE_FAILURES="50", OTP_MAX_PHONE_SENDS="6")
    policy = VerificationSettings.from_env(env).policy
    assert (policy.max_phone_failures, policy.max_phone_sends) == (50, 6)


@pytest.mark.parametrize(
    ("module", "provider", "variables", "extra"),
    [
        ("boto3", "sns", {"AWS_REGION": "us-east-1"}, "aws"),
        ("vonage", "vonage", {"VONAGE_API_KEY": "k", "VONAGE_API_SECRET": "s",
                              "VONAGE_FROM_NUMBER": "Clinic"}, "vonage"),
    ],
)  # fmt: skip
def test_a_provider_without_its_extra_is_a_configuration_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    module: str,
    provider: str,
    variables: dict[str, str],
    extra: str,
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # `import <module>` now raises ImportError
    env = embedded_env(tmp_path, SMS_PROVIDERS=provider, **variables)
    with pytest.raises(ConfigurationError, match=rf"uv sync --extra {extra}"):
        VerificationSettings.from_env(env)
