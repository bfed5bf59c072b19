"""SMS and call settings: every delivery variable parsed once, from the mapping given.

`SmsSettings.from_env(env)` reads the mapping it is handed (verification's settings hand it
the environment; it never reads `os.environ` itself) and refuses, with one
`ConfigurationError` naming every variable at fault, whatever would fail on the first call.
Nothing is built while parsing: `build_sms_sender` and `build_voice_sender` make the
senders when the service starts, importing each provider's SDK only then, so
`import verification.sms` needs none of them.

`SMS_PROVIDERS` names providers in priority order; without it, every provider whose
variables are present is used (twilio, then vonage), else the development console. AWS SNS
is only used when named: AWS_REGION and instance credentials exist on every AWS host
whether or not SNS is meant to carry SMS, so ambient AWS settings must not switch it on.
Real providers are always wrapped in `FailoverSmsSender`, even a single one: it adds the
overall deadline, the circuit breakers and the hop logging. The console sender is refused
in `APP_ENV=production`, because it prints codes.

Codes by automated call are offered only when `VOICE_CALLS=true`: through Twilio (its
credentials, and a voice-capable number: `TWILIO_VOICE_NUMBER`, else `TWILIO_PHONE_NUMBER`)
or, in development, the console (`VOICE_PROVIDER`; unset: Twilio when its credentials are
set, else the console).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, TypeVar

from ..env import ConfigurationError, env_flag, env_int, env_number, env_text, is_production
from ..stores.base import BreakerStore
from .base import SmsSender, VoiceSender
from .console import ConsoleSmsSender, ConsoleVoiceSender
from .errors import missing_extra
from .failover import FailoverSmsSender

KNOWN_PROVIDERS: Final = ("twilio", "sns", "vonage", "console")
CONSOLE_IN_PRODUCTION: Final = "console SMS prints codes; configure a provider (SMS_PROVIDERS)"
VOICE_PROVIDERS: Final = ("twilio", "console")
CONSOLE_CALLS_IN_PRODUCTION: Final = (
    "console calls print codes; set VOICE_PROVIDER=twilio (or VOICE_CALLS=false)"
)
# Overrides that exist for local stand-ins; in production plain http would carry the
# credentials and every code in clear text.
_HTTPS_ONLY_IN_PRODUCTION: Final = ("TWILIO_BASE_URL", "SNS_ENDPOINT_URL")
# provider -> (the SDK's import package, the extra that installs it)
_EXTRAS: Final = {
    "twilio": ("twilio", "twilio"),
    "sns": ("boto3", "aws"),
    "vonage": ("vonage", "vonage"),
}

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class TwilioSettings:
    """`TWILIO_*`: the account, and who messages come from (a number or a messaging service)."""

    account_sid: str
    auth_token: str = field(repr=False)
    phone_number: str | None = None
    messaging_service_sid: str | None = None
    base_url: str | None = None


@dataclass(frozen=True, slots=True)
class SnsSettings:
    """AWS SNS: the region, an optional sender ID, and explicit keys only when given."""

    region: str
    sender_id: str | None = None
    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class VonageSettings:
    """`VONAGE_*`: the API key pair and the sender."""

    api_key: str
    api_secret: str = field(repr=False)
    from_number: str = ""
    rest_host: str | None = None


@dataclass(frozen=True, slots=True)
class VoiceSettings:
    """Codes by automated call: `provider` is None when calls are not offered."""

    provider: str | None = None
    from_number: str | None = None
    twilio: TwilioSettings | None = None


@dataclass(frozen=True, slots=True)
class SmsSettings:
    """Which providers carry codes, in what order, with what timings (defaults: console)."""

    providers: tuple[str, ...] = ("console",)
    attempt_timeout: float = 5.0
    deadline: float = 8.0
    breaker_threshold: int = 3
    breaker_cooloff: float = 60.0
    twilio: TwilioSettings | None = None
    sns: SnsSettings | None = None
    vonage: VonageSettings | None = None
    voice: VoiceSettings = VoiceSettings()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmsSettings:
        """Parse `env`; raise one `ConfigurationError` naming everything wrong or missing."""
        providers = _providers(env)
        production = is_production(env)
        if "console" in providers and production:
            raise ConfigurationError(CONSOLE_IN_PRODUCTION)
        if production:
            for name in _HTTPS_ONLY_IN_PRODUCTION:
                url = _get(env, name)
                if url is not None and not url.lower().startswith("https://"):
                    raise ConfigurationError(f"{name} must be an https:// URL in production")
        problems: list[str] = []
        settings = cls(
            providers=providers,
            attempt_timeout=_positive(env, "SMS_ATTEMPT_TIMEOUT_SECONDS", 5.0),
            deadline=_positive(env, "SMS_DEADLINE_SECONDS", 8.0),
            breaker_threshold=int(_positive(env, "SMS_BREAKER_THRESHOLD", 3, integer=True)),
            breaker_cooloff=_positive(env, "SMS_BREAKER_COOLOFF_SECONDS", 60.0),
            twilio=_collect(problems, _twilio, env) if "twilio" in providers else None,
            sns=_collect(problems, _sns, env) if "sns" in providers else None,
            vonage=_collect(problems, _vonage, env) if "vonage" in providers else None,
            voice=_collect(problems, _voice, env) or VoiceSettings(),
        )
        if problems:  # all of them at once: one round of fixing, not three
            raise ConfigurationError("; ".join(problems))
        return settings

    def build_sms_sender(
        self,
        *,
        breaker_store: BreakerStore | None = None,
        validity_seconds: int | None = None,
    ) -> SmsSender:
        """The configured sender. `breaker_store` (the OTP store) keeps the providers' circuit
        breakers where every call process sees them; `validity_seconds` (the code's lifetime)
        tells providers that support it to drop a message still queued once the code expired.
        A provider whose SDK is not installed is a `ConfigurationError` naming its extra."""
        if self.providers == ("console",):
            return ConsoleSmsSender()
        senders = [self._build_one(name, validity_seconds) for name in self.providers]
        return FailoverSmsSender(
            senders,
            attempt_timeout=self.attempt_timeout,
            deadline=self.deadline,
            breaker_store=breaker_store,
            breaker_threshold=self.breaker_threshold,
            breaker_cooloff=self.breaker_cooloff,
        )

    def build_voice_sender(self) -> VoiceSender | None:
        """The configured call sender, or None when codes by call are not offered."""
        voice = self.voice
        if voice.provider == "console":
            return ConsoleVoiceSender()
        if voice.provider != "twilio" or voice.twilio is None or not voice.from_number:
            return None
        from .twilio_voice import TwilioVoiceSender

        return TwilioVoiceSender(
            voice.twilio.account_sid,
            voice.twilio.auth_token,
            voice.from_number,
            base_url=voice.twilio.base_url,
            timeout=self.attempt_timeout,
        )

    def _build_one(self, name: str, validity_seconds: int | None) -> SmsSender:
        if name == "twilio" and self.twilio is not None:
            from .twilio import TwilioSmsSender

            return TwilioSmsSender(
                self.twilio.account_sid,
                self.twilio.auth_token,
                self.twilio.phone_number,
                base_url=self.twilio.base_url,
                timeout=self.attempt_timeout,
                messaging_service_sid=self.twilio.messaging_service_sid,
                validity_seconds=validity_seconds,
            )
        if name == "sns" and self.sns is not None:
            from .sns import SnsSmsSender

            # Credentials come from boto3's standard chain (env, profile, instance role);
            # explicit keys are passed only when the mapping carried them.
            return SnsSmsSender(
                region_name=self.sns.region,
                timeout=self.attempt_timeout,
                sender_id=self.sns.sender_id,
                endpoint_url=self.sns.endpoint_url,
                aws_access_key_id=self.sns.access_key_id,
                aws_secret_access_key=self.sns.secret_access_key,
            )
        if name == "vonage" and self.vonage is not None:
            from .vonage import VonageSmsSender

            return VonageSmsSender(
                self.vonage.api_key,
                self.vonage.api_secret,
                self.vonage.from_number,
                timeout=self.attempt_timeout,
                rest_host=self.vonage.rest_host,
                validity_seconds=validity_seconds,
            )
        if name == "console":
            return ConsoleSmsSender()
        raise ConfigurationError(f"SMS provider '{name}' has no settings")


def _get(env: Mapping[str, str], name: str) -> str | None:
    return env_text(env, name) or None


def _missing(
    env: Mapping[str, str], provider: str, *groups: tuple[str, ...], channel: str = "SMS"
) -> None:
    """Raise naming every missing variable; a group of several means any one of them."""
    missing = [" or ".join(group) for group in groups if not any(_get(env, n) for n in group)]
    if missing:
        raise ConfigurationError(f"{channel} provider '{provider}' is missing {', '.join(missing)}")


def _positive(env: Mapping[str, str], name: str, default: float, *, integer: bool = False) -> float:
    value = env_int(env, name, int(default)) if integer else env_number(env, name, default)
    if value <= 0:
        raise ConfigurationError(f"{name} must be positive, got {env_text(env, name)!r}")
    return value


def _collect(
    problems: list[str], parse: Callable[[Mapping[str, str]], _T], env: Mapping[str, str]
) -> _T | None:
    """`parse(env)`, or None with its complaint added to `problems`."""
    try:
        return parse(env)
    except ConfigurationError as exc:
        problems.append(str(exc))
        return None


def _installed(provider: str, channel: str = "SMS") -> None:
    """Refuse at start, not on the first call, a provider whose SDK (an extra) is missing;
    `find_spec` looks for the package without importing it."""
    package, extra = _EXTRAS[provider]
    if importlib.util.find_spec(package) is None:
        raise ConfigurationError(missing_extra(provider, extra, channel=channel))


def _providers(env: Mapping[str, str]) -> tuple[str, ...]:
    """SMS_PROVIDERS if set, else every provider whose variables are present, else console."""
    raw = _get(env, "SMS_PROVIDERS")
    if raw is not None:
        names = [part.strip().lower() for part in raw.split(",") if part.strip()]
        unknown = [n for n in names if n not in KNOWN_PROVIDERS]
        if unknown:
            raise ConfigurationError(
                f"SMS_PROVIDERS has unknown provider(s) {', '.join(unknown)}; "
                f"use {', '.join(KNOWN_PROVIDERS)}"
            )
        if len(set(names)) != len(names):
            raise ConfigurationError("SMS_PROVIDERS names a provider twice")
        if names:
            return tuple(names)
    names = []
    # Any Twilio/Vonage variable switches the provider on; a partial set then fails loudly
    # rather than silently falling back to the console.
    if _twilio_given(env):
        names.append("twilio")
    if any(_get(env, n) for n in ("VONAGE_API_KEY", "VONAGE_API_SECRET")):
        names.append("vonage")
    return tuple(names) or ("console",)


def _twilio_given(env: Mapping[str, str]) -> bool:
    """Some Twilio credential is set: Twilio is meant, for texts and for calls alike."""
    return any(_get(env, n) for n in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"))


def _twilio(env: Mapping[str, str]) -> TwilioSettings:
    _installed("twilio")
    _missing(
        env,
        "twilio",
        ("TWILIO_ACCOUNT_SID",),
        ("TWILIO_AUTH_TOKEN",),
        ("TWILIO_PHONE_NUMBER", "TWILIO_MESSAGING_SERVICE_SID"),
    )
    return _twilio_account(env)


def _twilio_account(env: Mapping[str, str]) -> TwilioSettings:
    return TwilioSettings(
        account_sid=env_text(env, "TWILIO_ACCOUNT_SID"),
        auth_token=env_text(env, "TWILIO_AUTH_TOKEN"),
        phone_number=_get(env, "TWILIO_PHONE_NUMBER"),
        messaging_service_sid=_get(env, "TWILIO_MESSAGING_SERVICE_SID"),
        base_url=_get(env, "TWILIO_BASE_URL"),
    )


def _sns(env: Mapping[str, str]) -> SnsSettings:
    _installed("sns")
    _missing(env, "sns", ("AWS_REGION", "AWS_DEFAULT_REGION"))
    return SnsSettings(
        region=_get(env, "AWS_REGION") or env_text(env, "AWS_DEFAULT_REGION"),
        sender_id=_get(env, "SNS_SENDER_ID"),
        endpoint_url=_get(env, "SNS_ENDPOINT_URL"),
        access_key_id=_get(env, "AWS_ACCESS_KEY_ID"),
        secret_access_key=_get(env, "AWS_SECRET_ACCESS_KEY"),
    )


def _vonage(env: Mapping[str, str]) -> VonageSettings:
    _installed("vonage")
    _missing(env, "vonage", ("VONAGE_API_KEY",), ("VONAGE_API_SECRET",), ("VONAGE_FROM_NUMBER",))
    return VonageSettings(
        api_key=env_text(env, "VONAGE_API_KEY"),
        api_secret=env_text(env, "VONAGE_API_SECRET"),
        from_number=env_text(env, "VONAGE_FROM_NUMBER"),
        rest_host=_get(env, "VONAGE_REST_HOST"),
    )


def _voice(env: Mapping[str, str]) -> VoiceSettings:
    if not env_flag(env, "VOICE_CALLS", False):
        return VoiceSettings()
    default = "twilio" if _twilio_given(env) else "console"
    provider = env_text(env, "VOICE_PROVIDER", default).lower()
    if provider not in VOICE_PROVIDERS:
        raise ConfigurationError(
            f"VOICE_PROVIDER must be {' or '.join(VOICE_PROVIDERS)}, got {provider!r}"
        )
    if provider == "console":
        if is_production(env):
            raise ConfigurationError(CONSOLE_CALLS_IN_PRODUCTION)
        return VoiceSettings(provider="console")
    _installed("twilio", channel="voice")
    _missing(
        env,
        "twilio",
        ("TWILIO_ACCOUNT_SID",),
        ("TWILIO_AUTH_TOKEN",),
        ("TWILIO_VOICE_NUMBER", "TWILIO_PHONE_NUMBER"),
        channel="voice",
    )
    return VoiceSettings(
        provider="twilio",
        from_number=_get(env, "TWILIO_VOICE_NUMBER") or _get(env, "TWILIO_PHONE_NUMBER"),
        twilio=_twilio_account(env),
    )
