"""From settings to the parts of a service: the store, the SMS sender, the pepper.

`verification/settings.py` parses the environment; this module builds what the settings
describe (`OtpService.from_settings` calls it). Building is where files and connections
appear, so it is also where the service says which files it keeps.
"""

from __future__ import annotations

import logging
from typing import Any

from .env import ConfigurationError
from .pepper import development_pepper
from .settings import StoreSettings, VerificationSettings
from .stores.base import OtpStore

log = logging.getLogger(__name__)


def build_store(settings: StoreSettings, *, production: bool = False) -> OtpStore:
    """Redis when `redis_url` is set (Cluster with `redis_cluster`), else the SQLite file."""
    if settings.redis_url:
        from .stores.redis import RedisOtpStore

        try:
            return RedisOtpStore.from_url(
                settings.redis_url,
                key_prefix=settings.redis_key_prefix,
                max_connections=settings.redis_max_connections,
                cluster=settings.redis_cluster,
            )
        except ValueError as exc:  # a URL the client cannot use: one line, at start
            raise ConfigurationError(f"REDIS_URL: {exc}") from None
    if production:
        log.warning("APP_ENV=production without REDIS_URL: codes are kept in a local SQLite file")
    from .stores.sqlite import SqliteOtpStore

    return SqliteOtpStore(
        settings.sqlite_path, busy_timeout_seconds=settings.sqlite_busy_timeout_seconds
    )


def service_parts(settings: VerificationSettings) -> dict[str, Any]:
    """Everything `OtpService.__init__` needs except the directory, built from `settings`."""
    say_where_files_live(settings)
    pepper = settings.pepper or development_pepper(settings.pepper_file)
    store = build_store(settings.store, production=settings.production)
    # the providers' circuit breakers live in the store: every call process of the machine
    # (SQLite) or of every worker (Redis) sees one breaker per provider
    sender = settings.sms.build_sms_sender(
        breaker_store=store, validity_seconds=settings.policy.ttl_seconds
    )
    return {
        "store": store,
        "sender": sender,
        "voice_sender": settings.sms.build_voice_sender(),
        "policy": settings.policy,
        "pepper": pepper,
        "clinic_name": settings.brand_name,
        "default_region": settings.default_region,
        "knowledge_policy": settings.knowledge_policy,
    }


def say_where_files_live(settings: VerificationSettings) -> None:
    """One log line naming each file the service keeps, its absolute path and the variable
    that moves it (nothing appears in the working directory unannounced)."""
    files = settings.files
    if not files:
        return
    where = "; ".join(f"{what}: {path} ({variable})" for what, path, variable in files)
    log.info(
        "verification keeps its files here: %s",
        where,
        extra={"verification_files": {variable: str(path) for _, path, variable in files}},
    )
