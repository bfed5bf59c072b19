"""Reading verification settings from the environment, with safe embedded defaults.

Every variable here is listed in `.env.example`. Defaults give the embedded setup (SQLite file,
console SMS, generated dev pepper); `APP_ENV=production` refuses the ones that would be unsafe.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .pepper import ConfigurationError, is_production, load_pepper
from .policy import OtpPolicy
from .redis_store import DEFAULT_KEY_PREFIX, DEFAULT_MAX_CONNECTIONS, RedisOtpStore
from .sms import SmsSender
from .sms_config import sms_sender_from_env
from .sms_console import ConsoleSmsSender
from .sqlite_store import DEFAULT_BUSY_TIMEOUT_SECONDS, SqliteOtpStore
from .store import OtpStore

log = logging.getLogger(__name__)

DEFAULT_SQLITE_PATH = "var/otp.sqlite3"
# A real provider takes 0.1-1 s to accept a message and a decoy takes no time at all, so
# without a floor the answer's timing would tell whether a number is on file (rule 6).
REAL_PROVIDER_RESPONSE_FLOOR_SECONDS = 1.0

_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})

_POLICY_VARIABLES = {
    "OTP_TTL_SECONDS": "ttl_seconds",
    "OTP_MAX_ATTEMPTS": "max_attempts",
    "OTP_MAX_SENDS": "max_sends",
    "OTP_SEND_WINDOW_SECONDS": "send_window_seconds",
    "OTP_RESEND_COOLDOWN_SECONDS": "resend_cooldown_seconds",
    "OTP_MAX_FAILURES": "max_failures",
    "OTP_FAILURE_WINDOW_SECONDS": "failure_window_seconds",
}


def env_number(env: Mapping[str, str], name: str, default: float) -> float:
    """A number from `env[name]`, or `default` when unset; a clear error when not a number."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env_number(env, name, default)
    if value != int(value):
        raise ConfigurationError(f"{name} must be a whole number, got {value!r}")
    return int(value)


def env_flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    """true/false (also 1/0, yes/no, on/off) from `env[name]`, or `default` when unset."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE_WORDS:
        return True
    if raw in _FALSE_WORDS:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")


def redis_cluster_from_env(env: Mapping[str, str]) -> bool:
    """Whether `REDIS_URL` names a Redis Cluster node (`REDIS_CLUSTER=true`)."""
    cluster = env_flag(env, "REDIS_CLUSTER", False)
    if cluster and not env.get("REDIS_URL", "").strip():
        raise ConfigurationError("REDIS_CLUSTER=true needs REDIS_URL (any one cluster node)")
    return cluster


def policy_from_env(env: Mapping[str, str]) -> OtpPolicy:
    defaults = OtpPolicy()
    values = {
        field: env_int(env, name, getattr(defaults, field))
        for name, field in _POLICY_VARIABLES.items()
    }
    try:
        return OtpPolicy(**values)
    except ValueError as exc:
        raise ConfigurationError(f"invalid OTP policy: {exc}") from None


def store_from_env(env: Mapping[str, str]) -> OtpStore:
    redis_url = env.get("REDIS_URL", "").strip()
    cluster = redis_cluster_from_env(env)
    if redis_url:
        try:
            return RedisOtpStore.from_url(
                redis_url,
                key_prefix=env.get("REDIS_KEY_PREFIX", "").strip() or DEFAULT_KEY_PREFIX,
                max_connections=env_int(env, "REDIS_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS),
                cluster=cluster,
            )
        except ValueError as exc:
            if not cluster:
                raise  # standalone: as before, the URL parser's own error
            raise ConfigurationError(str(exc)) from None
    if is_production(env):
        log.warning("APP_ENV=production without REDIS_URL: codes are kept in a local SQLite file")
    return SqliteOtpStore(
        env.get("OTP_SQLITE_PATH", "").strip() or DEFAULT_SQLITE_PATH,
        busy_timeout_seconds=env_number(
            env, "OTP_SQLITE_BUSY_TIMEOUT_SECONDS", DEFAULT_BUSY_TIMEOUT_SECONDS
        ),
    )


def validate_env(env: Mapping[str, str]) -> None:
    """Raise `ConfigurationError` now for settings that would fail on the first call."""
    policy = policy_from_env(env)
    load_pepper(env)
    redis_cluster_from_env(env)
    try:
        sms_sender_from_env(env, validity_seconds=policy.ttl_seconds)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None


def default_response_floor(sender: SmsSender) -> float:
    """How long a "sent" answer takes at least: 0 for the console stand-in (it sends nothing
    anywhere), `REAL_PROVIDER_RESPONSE_FLOOR_SECONDS` for a real provider."""
    return 0.0 if isinstance(sender, ConsoleSmsSender) else REAL_PROVIDER_RESPONSE_FLOOR_SECONDS


def service_kwargs_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Everything `OtpService.__init__` needs except the directory."""
    policy = policy_from_env(env)
    pepper = load_pepper(env)
    try:
        sender = sms_sender_from_env(env, validity_seconds=policy.ttl_seconds)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    return {
        "store": store_from_env(env),
        "sender": sender,
        "policy": policy,
        "pepper": pepper,
        "clinic_name": env.get("CLINIC_NAME", "").strip() or "the clinic",
        "default_region": env.get("DEFAULT_PHONE_REGION", "").strip().upper() or "US",
        "response_floor_seconds": env_number(
            env, "OTP_RESPONSE_FLOOR_SECONDS", default_response_floor(sender)
        ),
    }
