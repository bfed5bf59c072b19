"""Verification's settings: the environment read once, at start, into one frozen object.

This is the only module of `verification` that touches `os.environ`, and only when it is
handed no mapping. Every variable is listed in `.env.example`; a value a variable cannot take
is a one-line `ConfigurationError` naming the variable, raised here, at start, not on the
first call. Defaults give the embedded setup (a SQLite file, console SMS, a generated
development pepper); `APP_ENV=production` refuses the ones that would be unsafe.

    settings = VerificationSettings.from_env()          # or from_env(a_mapping)
    service = OtpService.from_settings(directory, settings)

Settings are data: building them creates no file and opens no connection. Files are made
when the service is built, and `OtpService.from_settings` logs where (`files`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import phonenumbers

from .env import ConfigurationError, env_flag, env_int, env_number, env_text, is_production
from .pepper import DEFAULT_PEPPER_FILE, MIN_PEPPER_BYTES
from .policy import KnowledgePolicy, OtpPolicy
from .sms.settings import SmsSettings
from .stores.base import DEFAULT_KEY_PREFIX, DEFAULT_MAX_CONNECTIONS
from .stores.sqlite import DEFAULT_BUSY_TIMEOUT_SECONDS

P = TypeVar("P", OtpPolicy, KnowledgePolicy)

DEFAULT_SQLITE_PATH = "var/otp.sqlite3"
DEFAULT_BRAND_NAME = "the clinic"
DEFAULT_REGION = "US"

_POLICY_VARIABLES = {
    "OTP_TTL_SECONDS": "ttl_seconds",
    "OTP_MAX_ATTEMPTS": "max_attempts",
    "OTP_MAX_SENDS": "max_sends",
    "OTP_SEND_WINDOW_SECONDS": "send_window_seconds",
    "OTP_RESEND_COOLDOWN_SECONDS": "resend_cooldown_seconds",
    "OTP_MAX_FAILURES": "max_failures",
    "OTP_FAILURE_WINDOW_SECONDS": "failure_window_seconds",
    "OTP_MAX_PHONE_FAILURES": "max_phone_failures",
    "OTP_MAX_PHONE_SENDS": "max_phone_sends",
    "OTP_OWNER_RESERVE_SENDS": "owner_reserve_sends",
    "OTP_OWNER_RESERVE_FAILURES": "owner_reserve_failures",
}
_KNOWLEDGE_VARIABLES = {
    "KBA_MAX_FAILURES_PER_RECORD": "max_failures_per_record",
    "KBA_MAX_FAILURES_PER_CALLER": "max_failures_per_caller",
    "KBA_FAILURE_WINDOW_SECONDS": "window_seconds",
    "KBA_MAX_RECORDS_PER_NAME": "max_records_per_name",
    "KBA_MAX_FAILURES_PER_PROVEN_PHONE": "max_failures_per_proven_phone",
}


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """Where codes and counters live: Redis when `redis_url` is set, else a SQLite file."""

    redis_url: str | None = field(default=None, repr=False)  # may hold a password
    redis_cluster: bool = False
    redis_key_prefix: str = DEFAULT_KEY_PREFIX
    redis_max_connections: int = DEFAULT_MAX_CONNECTIONS
    sqlite_path: Path = Path(DEFAULT_SQLITE_PATH)
    sqlite_busy_timeout_seconds: float = DEFAULT_BUSY_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StoreSettings:
        redis_url = env_text(env, "REDIS_URL") or None
        cluster = env_flag(env, "REDIS_CLUSTER", False)
        if cluster and not redis_url:
            raise ConfigurationError("REDIS_CLUSTER=true needs REDIS_URL (any one cluster node)")
        return cls(
            redis_url=redis_url,
            redis_cluster=cluster,
            redis_key_prefix=env_text(env, "REDIS_KEY_PREFIX", DEFAULT_KEY_PREFIX),
            redis_max_connections=env_int(
                env, "REDIS_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS, minimum=1
            ),
            sqlite_path=_absolute(env_text(env, "OTP_SQLITE_PATH", DEFAULT_SQLITE_PATH)),
            sqlite_busy_timeout_seconds=env_number(
                env, "OTP_SQLITE_BUSY_TIMEOUT_SECONDS", DEFAULT_BUSY_TIMEOUT_SECONDS, minimum=0
            ),
        )


@dataclass(frozen=True, slots=True)
class VerificationSettings:
    """Everything `OtpService` needs from the environment, parsed and checked once."""

    policy: OtpPolicy = OtpPolicy()  # noqa: RUF009 - frozen, one shared default is safe
    knowledge_policy: KnowledgePolicy = KnowledgePolicy()  # noqa: RUF009 - frozen
    store: StoreSettings = StoreSettings()
    #: `OTP_PEPPER`; None outside production: a development pepper kept in `pepper_file`
    pepper: bytes | None = field(default=None, repr=False)
    pepper_file: Path = Path(DEFAULT_PEPPER_FILE)
    #: the host's name in the text and the call (`OTP_BRAND_NAME`)
    brand_name: str = DEFAULT_BRAND_NAME
    #: ISO region for numbers said without a country code (`DEFAULT_PHONE_REGION`)
    default_region: str = DEFAULT_REGION
    production: bool = False
    #: the SMS and call providers (`SmsSettings.from_env`, verification/sms/settings.py)
    sms: SmsSettings = SmsSettings()  # noqa: RUF009 - frozen

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> VerificationSettings:
        """Parse `env` (None: `os.environ`), or raise `ConfigurationError` naming what is
        wrong: a value a variable cannot take, or what `APP_ENV=production` refuses (no
        `OTP_PEPPER`, console SMS, plain-http provider overrides)."""
        env = os.environ if env is None else env
        production = is_production(env)
        policy = _policy(
            env,
            OtpPolicy,
            _POLICY_VARIABLES,
            "OTP policy",
            daily_send_budget=_budget(env),
            allowed_countries=_countries(env),
        )
        pepper = _pepper(env, production)
        sms = SmsSettings.from_env(env)
        return cls(
            policy=policy,
            knowledge_policy=_policy(
                env, KnowledgePolicy, _KNOWLEDGE_VARIABLES, "knowledge-based verification policy"
            ),
            store=StoreSettings.from_env(env),
            pepper=pepper,
            pepper_file=_absolute(env_text(env, "OTP_PEPPER_FILE", DEFAULT_PEPPER_FILE)),
            brand_name=env_text(env, "OTP_BRAND_NAME", DEFAULT_BRAND_NAME),
            default_region=region(env_text(env, "DEFAULT_PHONE_REGION", DEFAULT_REGION),
                                  "DEFAULT_PHONE_REGION"),
            production=production,
            sms=sms,
        )  # fmt: skip

    @property
    def files(self) -> list[tuple[str, Path, str]]:
        """The files the service will keep, as (what, absolute path, the variable that moves
        it): the SQLite store without `REDIS_URL`, the development pepper without
        `OTP_PEPPER`. Empty when everything lives elsewhere."""
        kept = []
        if self.store.redis_url is None:
            kept.append(("codes and limits", self.store.sqlite_path, "OTP_SQLITE_PATH"))
        if self.pepper is None:
            kept.append(("development pepper", self.pepper_file, "OTP_PEPPER_FILE"))
        return kept


def region(value: str, variable: str) -> str:
    """An ISO 3166 region phonenumbers knows ("us" -> "US"), or a `ConfigurationError`."""
    code = value.strip().upper()
    if phonenumbers.country_code_for_region(code) == 0:
        raise ConfigurationError(f"{variable} must be an ISO region code such as US, got {value!r}")
    return code


def _absolute(path: str) -> Path:
    """A path as the process sees it now, so a later change of directory moves nothing."""
    return Path(path).expanduser().absolute()


def _pepper(env: Mapping[str, str], production: bool) -> bytes | None:
    configured = env_text(env, "OTP_PEPPER")
    hint = "(generate one with: python -c 'import secrets; print(secrets.token_hex(32))')"
    if configured:
        if len(configured.encode()) < MIN_PEPPER_BYTES:
            raise ConfigurationError(
                f"OTP_PEPPER must be at least {MIN_PEPPER_BYTES} characters {hint}"
            )
        return configured.encode()
    if production:
        raise ConfigurationError(
            f"OTP_PEPPER is not set; refusing to start with APP_ENV=production {hint}"
        )
    return None


def _policy(
    env: Mapping[str, str],
    cls: type[P],
    variables: Mapping[str, str],
    what: str,
    **parsed: object,
) -> P:
    """`cls` with each field read from its variable (whole numbers) and the `parsed` ones,
    checked by `cls` itself."""
    defaults = cls()
    values: dict[str, Any] = {
        name: env_int(env, variable, getattr(defaults, name))
        for variable, name in variables.items()
    }
    values.update(parsed)
    try:
        return cls(**values)
    except ValueError as exc:
        raise ConfigurationError(f"invalid {what}: {exc}") from None


def _budget(env: Mapping[str, str]) -> int | None:
    """`OTP_DAILY_SEND_BUDGET`: codes per 24 hours for all phones; unset: no cap; 0: off."""
    if not env_text(env, "OTP_DAILY_SEND_BUDGET"):
        return None
    return env_int(env, "OTP_DAILY_SEND_BUDGET", 0, minimum=0)


def _countries(env: Mapping[str, str]) -> frozenset[str] | None:
    """`OTP_ALLOWED_COUNTRIES`: ISO regions a code may go to ("US,CA"); unset: any."""
    raw = env_text(env, "OTP_ALLOWED_COUNTRIES")
    if not raw:
        return None
    return frozenset(
        region(part, "OTP_ALLOWED_COUNTRIES") for part in raw.split(",") if part.strip()
    )
