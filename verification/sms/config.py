"""The former entry point, kept only while `verification/config.py` still calls it.

Settings are parsed by `SmsSettings.from_env` (verification/sms/settings.py) and built by its
`build_sms_sender`; this module goes away once verification's settings call those directly.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..stores.base import BreakerStore
from .base import SmsSender
from .settings import SmsSettings


def sms_sender_from_env(
    env: Mapping[str, str],
    *,
    validity_seconds: int | None = None,
    breaker_store: BreakerStore | None = None,
) -> SmsSender:
    """`SmsSettings.from_env(env).build_sms_sender(...)`."""
    return SmsSettings.from_env(env).build_sms_sender(
        breaker_store=breaker_store, validity_seconds=validity_seconds
    )
