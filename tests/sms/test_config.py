"""SmsSettings: what the environment mapping says, which senders it builds, what it refuses."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.support.constants import BODY, PHONE
from tests.support.sns_standin import AWS_KEY_ID, AWS_SECRET, SnsStandIn
from tests.support.twilio_standin import TWILIO_SID, TWILIO_TOKEN, TwilioStandIn
from verification.env import ConfigurationError
from verification.sms.base import SmsSender
from verification.sms.console import ConsoleSmsSender
from verification.sms.failover import FailoverSmsSender
from verification.sms.settings import SmsSettings, SnsSettings, TwilioSettings
from verification.sms.sns import SnsSmsSender
from verification.sms.twilio import TwilioSmsSender
from verification.sms.vonage import VonageSmsSender
from verification.stores.sqlite import SqliteOtpStore

TWILIO_ENV = {
    "TWILIO_ACCOUNT_SID": TWILIO_SID,
    "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    "TWILIO_PHONE_NUMBER": "+15005550006",
}
VONAGE_ENV = {"VONAGE_API_KEY": "k", "VONAGE_API_SECRET": "s", "VONAGE_FROM_NUMBER": "Clinic"}


def sms_sender_from_env(env: Mapping[str, str], **kwargs: Any) -> SmsSender:
    return SmsSettings.from_env(env).build_sms_sender(**kwargs)


def test_nothing_configured_is_the_console() -> None:
    assert isinstance(sms_sender_from_env({}), ConsoleSmsSender)


def test_console_is_refused_in_production() -> None:
    with pytest.raises(ConfigurationError, match="console SMS prints codes; configure a provider"):
        sms_sender_from_env({"APP_ENV": "production"})
    with pytest.raises(ConfigurationError, match="console SMS prints codes"):
        sms_sender_from_env(
            {**TWILIO_ENV, "APP_ENV": "production", "SMS_PROVIDERS": "twilio,console"}
        )


def test_twilio_credentials_select_twilio_wrapped_in_failover() -> None:
    sender = sms_sender_from_env(TWILIO_ENV)
    assert isinstance(sender, FailoverSmsSender)
    [twilio] = sender.senders
    assert isinstance(twilio, TwilioSmsSender)


def test_default_order_is_twilio_then_vonage_and_sns_only_when_named() -> None:
    env = {**TWILIO_ENV, **VONAGE_ENV, "AWS_REGION": "us-east-1"}
    assert SmsSettings.from_env(env).providers == ("twilio", "vonage")
    sender = sms_sender_from_env(env)
    assert isinstance(sender, FailoverSmsSender)
    assert [type(s) for s in sender.senders] == [TwilioSmsSender, VonageSmsSender]


def test_sms_providers_sets_the_order() -> None:
    env = {
        **TWILIO_ENV,
        **VONAGE_ENV,
        "AWS_REGION": "eu-west-1",
        "SMS_PROVIDERS": " vonage , SNS,twilio ",
    }
    sender = sms_sender_from_env(env)
    assert isinstance(sender, FailoverSmsSender)
    assert [type(s) for s in sender.senders] == [VonageSmsSender, SnsSmsSender, TwilioSmsSender]


def test_named_provider_without_credentials_names_the_missing_variables() -> None:
    with pytest.raises(ConfigurationError) as caught:
        sms_sender_from_env(
            {"SMS_PROVIDERS": "twilio,sns,vonage", "TWILIO_ACCOUNT_SID": TWILIO_SID}
        )
    text = str(caught.value)
    for name in (
        "TWILIO_AUTH_TOKEN",
        "TWILIO_PHONE_NUMBER or TWILIO_MESSAGING_SERVICE_SID",
        "AWS_REGION",
        "VONAGE_API_KEY",
        "VONAGE_API_SECRET",
        "VONAGE_FROM_NUMBER",
    ):
        assert name in text
    assert "TWILIO_ACCOUNT_SID" not in text


def test_partial_twilio_settings_fail_loudly_instead_of_falling_back_to_console() -> None:
    with pytest.raises(ConfigurationError, match="TWILIO_AUTH_TOKEN"):
        sms_sender_from_env({"TWILIO_ACCOUNT_SID": TWILIO_SID})


def test_messaging_service_sid_replaces_the_phone_number() -> None:
    env = {
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": "MG" + "2" * 32,
    }
    assert isinstance(sms_sender_from_env(env), FailoverSmsSender)


@pytest.mark.parametrize("value", ["twilio,carrier-pigeon", "twilio,twilio"])
def test_bad_provider_lists_are_refused(value: str) -> None:
    with pytest.raises(ConfigurationError, match="SMS_PROVIDERS"):
        sms_sender_from_env({**TWILIO_ENV, "SMS_PROVIDERS": value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SMS_DEADLINE_SECONDS", "soon"),
        ("SMS_ATTEMPT_TIMEOUT_SECONDS", "0"),
        ("SMS_BREAKER_THRESHOLD", "2.5"),
        ("SMS_BREAKER_COOLOFF_SECONDS", "-1"),
    ],
)
def test_bad_timings_are_refused_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        sms_sender_from_env({**TWILIO_ENV, name: value})


@pytest.mark.parametrize("name", ["TWILIO_BASE_URL", "SNS_ENDPOINT_URL"])
def test_plain_http_overrides_are_refused_in_production(name: str) -> None:
    env = {**TWILIO_ENV, "AWS_REGION": "us-east-1", "SMS_PROVIDERS": "twilio,sns"}
    env |= {"APP_ENV": "production", name: "http://127.0.0.1:9"}
    with pytest.raises(ConfigurationError, match=f"{name} must be an https:// URL"):
        sms_sender_from_env(env)
    assert isinstance(
        sms_sender_from_env({**env, name: "https://proxy.example"}), FailoverSmsSender
    )


def test_console_alone_when_named() -> None:
    assert isinstance(
        sms_sender_from_env({**TWILIO_ENV, "SMS_PROVIDERS": "console"}), ConsoleSmsSender
    )


async def test_built_sender_sends_through_the_stand_ins_with_the_env_timings(
    twilio_standin: TwilioStandIn, sns_standin: SnsStandIn
) -> None:
    twilio_standin.delay = 5.0
    env = {
        **TWILIO_ENV,
        "TWILIO_BASE_URL": twilio_standin.url,
        "SMS_PROVIDERS": "twilio,sns",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": AWS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "SNS_ENDPOINT_URL": sns_standin.url,
        "SNS_SENDER_ID": "Clinic",
        "SMS_ATTEMPT_TIMEOUT_SECONDS": "1",
        "SMS_DEADLINE_SECONDS": "4",
    }
    sender = sms_sender_from_env(env, validity_seconds=300)
    assert isinstance(sender, FailoverSmsSender)
    started = time.monotonic()
    try:
        receipt = await sender.send(PHONE, BODY)
    finally:
        await sender.aclose()
    assert receipt.provider == "sns"
    assert 0.9 < time.monotonic() - started < 4, "SMS_ATTEMPT_TIMEOUT_SECONDS was not applied"
    assert twilio_standin.requests[0].form["ValidityPeriod"] == "300"
    assert SnsStandIn.attributes(sns_standin.requests[0])["AWS.SNS.SMS.SenderID"] == "Clinic"


def test_parses_the_mapping_it_is_given_never_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in TWILIO_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SMS_PROVIDERS", "twilio")
    assert SmsSettings.from_env({}) == SmsSettings()
    assert isinstance(SmsSettings().build_sms_sender(), ConsoleSmsSender)


def test_every_variable_lands_in_one_typed_object_with_secrets_out_of_its_repr() -> None:
    env = {
        **TWILIO_ENV,
        "TWILIO_BASE_URL": "https://proxy.example",
        "SMS_PROVIDERS": "sns,twilio",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": AWS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "SNS_SENDER_ID": "Clinic",
        "SMS_ATTEMPT_TIMEOUT_SECONDS": "2.5",
        "SMS_DEADLINE_SECONDS": "6",
        "SMS_BREAKER_THRESHOLD": "4",
        "SMS_BREAKER_COOLOFF_SECONDS": "30",
    }
    settings = SmsSettings.from_env(env)
    assert settings == SmsSettings(
        providers=("sns", "twilio"),
        attempt_timeout=2.5,
        deadline=6.0,
        breaker_threshold=4,
        breaker_cooloff=30.0,
        twilio=TwilioSettings(
            TWILIO_SID, TWILIO_TOKEN, "+15005550006", base_url="https://proxy.example"
        ),
        sns=SnsSettings(
            "eu-west-1",
            sender_id="Clinic",
            access_key_id=AWS_KEY_ID,
            secret_access_key=AWS_SECRET,
        ),
    )
    assert TWILIO_TOKEN not in repr(settings) and AWS_SECRET not in repr(settings)


@pytest.mark.parametrize(
    ("providers", "package", "extra"),
    [("sns", "boto3", "aws"), ("vonage", "vonage", "vonage"), ("twilio", "twilio", "twilio")],
)
def test_a_provider_without_its_sdk_is_refused_at_start_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, providers: str, package: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # as if the extra were not installed
    env = {**TWILIO_ENV, **VONAGE_ENV, "AWS_REGION": "us-east-1", "SMS_PROVIDERS": providers}
    with pytest.raises(ConfigurationError, match=rf"needs the '{extra}' extra: uv sync --extra"):
        SmsSettings.from_env(env)


async def test_the_breakers_live_in_the_store_given_to_the_builder(tmp_path: Path) -> None:
    settings = SmsSettings.from_env(TWILIO_ENV)
    store = SqliteOtpStore(tmp_path / "otp.sqlite3")
    shared = settings.build_sms_sender(breaker_store=store)
    alone = settings.build_sms_sender()
    await store.aclose()
    assert isinstance(shared, FailoverSmsSender) and shared.shares_breakers
    assert isinstance(alone, FailoverSmsSender) and not alone.shares_breakers
