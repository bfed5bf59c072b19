"""Build the SMS sender from environment variables (each is listed in `.env.example`).

`SMS_PROVIDERS` names providers in priority order; without it, every provider whose
variables are present is used (twilio, then vonage), else the development console. AWS SNS
is only used when named: AWS_REGION and instance credentials exist on every AWS host
whether or not SNS is meant to carry SMS, so ambient AWS settings must not switch it on.

Real providers are always wrapped in `FailoverSmsSender`, even a single one: it adds the
overall deadline, the circuit breaker and the hop logging. The console sender alone is
returned bare (there is nothing to fail over to) and is refused in `APP_ENV=production`,
because it prints codes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from ..env import ConfigurationError, env_int, env_number, env_text, is_production
from ..stores.base import BreakerStore
from .base import SmsSender
from .console import ConsoleSmsSender
from .failover import FailoverSmsSender

KNOWN_PROVIDERS = ("twilio", "sns", "vonage", "console")
CONSOLE_IN_PRODUCTION = "console SMS prints codes; configure a provider (SMS_PROVIDERS)"


def _get(env: Mapping[str, str], name: str) -> str | None:
    return env_text(env, name) or None


def _missing(env: Mapping[str, str], provider: str, *groups: tuple[str, ...]) -> None:
    """Raise naming every missing variable; a group of several means any one of them."""
    missing = [" or ".join(group) for group in groups if not any(_get(env, n) for n in group)]
    if missing:
        raise ValueError(f"SMS provider '{provider}' is missing {', '.join(missing)}")


def _positive(env: Mapping[str, str], name: str, default: float, *, integer: bool = False) -> float:
    """A positive number read by the shared env readers (`verification.env`); a bad value is
    a `ValueError` naming the variable, like every other refusal here."""
    try:
        value = env_int(env, name, int(default)) if integer else env_number(env, name, default)
    except ConfigurationError as exc:
        raise ValueError(str(exc)) from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {env_text(env, name)!r}")
    return value


def _twilio(env: Mapping[str, str], timeout: float, validity: int | None) -> SmsSender:
    from .twilio import TwilioSmsSender

    _missing(
        env,
        "twilio",
        ("TWILIO_ACCOUNT_SID",),
        ("TWILIO_AUTH_TOKEN",),
        ("TWILIO_PHONE_NUMBER", "TWILIO_MESSAGING_SERVICE_SID"),
    )
    return TwilioSmsSender(
        env["TWILIO_ACCOUNT_SID"].strip(),
        env["TWILIO_AUTH_TOKEN"].strip(),
        _get(env, "TWILIO_PHONE_NUMBER"),
        base_url=_get(env, "TWILIO_BASE_URL"),
        timeout=timeout,
        messaging_service_sid=_get(env, "TWILIO_MESSAGING_SERVICE_SID"),
        validity_seconds=validity,
    )


def _sns(env: Mapping[str, str], timeout: float, validity: int | None) -> SmsSender:
    from .sns import SnsSmsSender

    _missing(env, "sns", ("AWS_REGION", "AWS_DEFAULT_REGION"))
    region = _get(env, "AWS_REGION") or _get(env, "AWS_DEFAULT_REGION") or ""
    # Credentials come from boto3's standard chain (env, profile, instance role); explicit
    # keys are passed only when this mapping carries them, so a test mapping works alone.
    return SnsSmsSender(
        region_name=region,
        timeout=timeout,
        sender_id=_get(env, "SNS_SENDER_ID"),
        endpoint_url=_get(env, "SNS_ENDPOINT_URL"),
        aws_access_key_id=_get(env, "AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=_get(env, "AWS_SECRET_ACCESS_KEY"),
    )


def _vonage(env: Mapping[str, str], timeout: float, validity: int | None) -> SmsSender:
    from .vonage import VonageSmsSender

    _missing(env, "vonage", ("VONAGE_API_KEY",), ("VONAGE_API_SECRET",), ("VONAGE_FROM_NUMBER",))
    return VonageSmsSender(
        env["VONAGE_API_KEY"].strip(),
        env["VONAGE_API_SECRET"].strip(),
        env["VONAGE_FROM_NUMBER"].strip(),
        timeout=timeout,
        rest_host=_get(env, "VONAGE_REST_HOST"),
        validity_seconds=validity,
    )


_BUILDERS: dict[str, Callable[[Mapping[str, str], float, int | None], SmsSender]] = {
    "twilio": _twilio,
    "sns": _sns,
    "vonage": _vonage,
}


def configured_providers(env: Mapping[str, str]) -> list[str]:
    """The provider list: SMS_PROVIDERS if set, else those whose variables are present."""
    raw = _get(env, "SMS_PROVIDERS")
    if raw is not None:
        names = [part.strip().lower() for part in raw.split(",") if part.strip()]
        unknown = [n for n in names if n not in KNOWN_PROVIDERS]
        if unknown:
            raise ValueError(
                f"SMS_PROVIDERS has unknown provider(s) {', '.join(unknown)}; "
                f"use {', '.join(KNOWN_PROVIDERS)}"
            )
        if len(set(names)) != len(names):
            raise ValueError("SMS_PROVIDERS names a provider twice")
        if names:
            return names
    names = []
    # Any Twilio/Vonage variable switches the provider on; a partial set then fails loudly
    # in its builder rather than silently falling back to the console.
    if any(_get(env, n) for n in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")):
        names.append("twilio")
    if any(_get(env, n) for n in ("VONAGE_API_KEY", "VONAGE_API_SECRET")):
        names.append("vonage")
    return names or ["console"]


def sms_sender_from_env(
    env: Mapping[str, str] | None = None,
    *,
    validity_seconds: int | None = None,
    breaker_store: BreakerStore | None = None,
) -> SmsSender:
    """Build the configured sender; raise ValueError naming what is wrong or missing.

    `validity_seconds` (the code's lifetime) tells providers that support it to drop a
    message still queued after the code has expired. `breaker_store` (the OTP store) keeps
    the providers' circuit breakers where every call process sees them; without it each
    sender keeps its own in memory.
    """
    env = os.environ if env is None else env
    names = configured_providers(env)
    production = is_production(env)
    if "console" in names and production:
        raise ValueError(CONSOLE_IN_PRODUCTION)
    if production:
        # Overrides exist for local stand-ins; in production plain http would carry the
        # credentials and every code in clear text.
        for name in ("TWILIO_BASE_URL", "SNS_ENDPOINT_URL"):
            url = _get(env, name)
            if url is not None and not url.lower().startswith("https://"):
                raise ValueError(f"{name} must be an https:// URL in production")
    if names == ["console"]:
        return ConsoleSmsSender()
    attempt_timeout = _positive(env, "SMS_ATTEMPT_TIMEOUT_SECONDS", 5.0)
    deadline = _positive(env, "SMS_DEADLINE_SECONDS", 8.0)
    threshold = int(_positive(env, "SMS_BREAKER_THRESHOLD", 3, integer=True))
    cooloff = _positive(env, "SMS_BREAKER_COOLOFF_SECONDS", 60.0)
    senders: list[SmsSender] = []
    problems: list[str] = []
    for name in names:
        if name == "console":
            senders.append(ConsoleSmsSender())
            continue
        try:
            senders.append(_BUILDERS[name](env, attempt_timeout, validity_seconds))
        except ValueError as exc:  # collect them all: one round of fixing, not three
            problems.append(str(exc))
    if problems:
        raise ValueError("; ".join(problems))
    return FailoverSmsSender(
        senders,
        attempt_timeout=attempt_timeout,
        deadline=deadline,
        breaker_threshold=threshold,
        breaker_cooloff=cooloff,
        breaker_store=breaker_store,
    )
