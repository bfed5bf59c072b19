"""Reading verification settings from the environment, with safe embedded defaults.

Every variable here is listed in `.env.example`. Defaults give the embedded setup (SQLite file,
console SMS, generated dev pepper); `APP_ENV=production` refuses the ones that would be unsafe.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypeVar

from .env import ConfigurationError, env_flag, env_int, env_number, env_text, is_production
from .pepper import load_pepper
from .policy import KnowledgePolicy, OtpPolicy
from .sms.config import sms_sender_from_env
from .stores.base import OtpStore
from .stores.redis import DEFAULT_KEY_PREFIX, DEFAULT_MAX_CONNECTIONS, RedisOtpStore
from .stores.sqlite import DEFAULT_BUSY_TIMEOUT_SECONDS, SqliteOtpStore

log = logging.getLogger(__name__)

P = TypeVar("P", OtpPolicy, KnowledgePolicy)

DEFAULT_SQLITE_PATH = "var/otp.sqlite3"

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
}
_KNOWLEDGE_VARIABLES = {
    "KBA_MAX_FAILURES_PER_RECORD": "max_failures_per_record",
    "KBA_MAX_FAILURES_PER_CALLER": "max_failures_per_caller",
    "KBA_FAILURE_WINDOW_SECONDS": "window_seconds",
}


def redis_cluster_from_env(env: Mapping[str, str]) -> bool:
    """Whether `REDIS_URL` names a Redis Cluster node (`REDIS_CLUSTER=true`)."""
    cluster = env_flag(env, "REDIS_CLUSTER", False)
    if cluster and not env_text(env, "REDIS_URL"):
        raise ConfigurationError("REDIS_CLUSTER=true needs REDIS_URL (any one cluster node)")
    return cluster


def policy_from_env(env: Mapping[str, str]) -> OtpPolicy:
    """The code limits (`OTP_*`); a default for every variable left unset."""
    return _policy(env, OtpPolicy, _POLICY_VARIABLES, "OTP policy")


def knowledge_policy_from_env(env: Mapping[str, str]) -> KnowledgePolicy:
    """The knowledge-based throttle's limits (`KBA_*`), for `IdentityThrottle`."""
    return _policy(
        env, KnowledgePolicy, _KNOWLEDGE_VARIABLES, "knowledge-based verification policy"
    )


def _policy(env: Mapping[str, str], cls: type[P], variables: Mapping[str, str], what: str) -> P:
    """`cls` with each field read from its variable (whole numbers), checked by `cls` itself."""
    defaults = cls()
    values = {
        field: env_int(env, name, getattr(defaults, field)) for name, field in variables.items()
    }
    try:
        return cls(**values)
    except ValueError as exc:
        raise ConfigurationError(f"invalid {what}: {exc}") from None


def store_from_env(env: Mapping[str, str]) -> OtpStore:
    redis_url = env_text(env, "REDIS_URL")
    cluster = redis_cluster_from_env(env)
    if redis_url:
        try:
            return RedisOtpStore.from_url(
                redis_url,
                key_prefix=env_text(env, "REDIS_KEY_PREFIX", DEFAULT_KEY_PREFIX),
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
        env_text(env, "OTP_SQLITE_PATH", DEFAULT_SQLITE_PATH),
        busy_timeout_seconds=env_number(
            env, "OTP_SQLITE_BUSY_TIMEOUT_SECONDS", DEFAULT_BUSY_TIMEOUT_SECONDS
        ),
    )


def validate_env(env: Mapping[str, str]) -> None:
    """Raise `ConfigurationError` now for settings that would fail on the first call."""
    policy = policy_from_env(env)
    knowledge_policy_from_env(env)
    load_pepper(env)
    redis_cluster_from_env(env)
    try:
        sms_sender_from_env(env, validity_seconds=policy.ttl_seconds)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None


def service_kwargs_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Everything `OtpService.__init__` needs except the directory."""
    policy = policy_from_env(env)
    pepper = load_pepper(env)
    store = store_from_env(env)
    try:
        # the providers' circuit breakers live in the store: every call process of the
        # machine (SQLite) or of every worker (Redis) sees one breaker per provider
        sender = sms_sender_from_env(env, validity_seconds=policy.ttl_seconds, breaker_store=store)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    return {
        "store": store,
        "sender": sender,
        "policy": policy,
        "pepper": pepper,
        "clinic_name": env_text(env, "CLINIC_NAME", "the clinic"),
        "default_region": env_text(env, "DEFAULT_PHONE_REGION", "US").upper(),
        "knowledge_policy": knowledge_policy_from_env(env),
    }
