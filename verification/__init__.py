"""Caller verification by one-time code (a text or an automated call), for any front end.

What a host uses is here; everything else lives in private modules (httpx's way): stores,
senders, settings, outcomes, the limits they enforce. Nothing here imports LiveKit (the
plugin is `verification.livekit`), and the optional SDKs (redis, twilio, boto3, vonage) load
only when a name that needs them is first used, so `import verification` needs only
phonenumbers:

    from verification import OtpService, SqliteOtpStore        # no extra needed
    from verification import RedisOtpStore                     # needs the 'redis' extra
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .directory import PhoneDirectory
from .env import ConfigurationError
from .levels import VerificationLevel
from .outcomes import RequestOutcome, VerifyOutcome
from .phone import E164, mask_phone, normalize_phone
from .policy import KnowledgePolicy, OtpPolicy
from .service import OtpService
from .settings import StoreSettings, VerificationSettings
from .sms.base import SmsDeliveryError, SmsReceipt, SmsSender, VoiceSender
from .sms.console import ConsoleSmsSender, ConsoleVoiceSender
from .sms.failover import FailoverSmsSender
from .spoken import parse_spoken_code
from .stores.base import BreakerStore, CodeStore, CounterStore, OtpStore, StoreUnavailable
from .stores.sqlite import SqliteOtpStore
from .throttle import IdentityThrottle, KeyedCounters, ThrottleDecision

if TYPE_CHECKING:
    from .sms.sns import SnsSmsSender
    from .sms.twilio import TwilioSmsSender
    from .sms.twilio_voice import TwilioVoiceSender
    from .sms.vonage import VonageSmsSender
    from .stores.redis import RedisOtpStore

# name -> (module, the extra that installs its SDK)
_LAZY = {
    "RedisOtpStore": (".stores.redis", "redis"),
    "TwilioSmsSender": (".sms.twilio", "twilio"),
    "TwilioVoiceSender": (".sms.twilio_voice", "twilio"),
    "SnsSmsSender": (".sms.sns", "aws"),
    "VonageSmsSender": (".sms.vonage", "vonage"),
}


def __getattr__(name: str) -> Any:
    """The names whose SDK is an extra, imported on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'verification' has no attribute {name!r}")
    module, extra = _LAZY[name]
    try:
        value = getattr(importlib.import_module(module, __name__), name)
    except ImportError as exc:
        raise ImportError(
            f"verification.{name} needs the '{extra}' extra (its SDK is not installed: {exc})"
        ) from exc
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "E164",
    "BreakerStore",
    "CodeStore",
    "ConfigurationError",
    "ConsoleSmsSender",
    "ConsoleVoiceSender",
    "CounterStore",
    "FailoverSmsSender",
    "IdentityThrottle",
    "KeyedCounters",
    "KnowledgePolicy",
    "OtpPolicy",
    "OtpService",
    "OtpStore",
    "PhoneDirectory",
    "RedisOtpStore",
    "RequestOutcome",
    "SmsDeliveryError",
    "SmsReceipt",
    "SmsSender",
    "SnsSmsSender",
    "SqliteOtpStore",
    "StoreSettings",
    "StoreUnavailable",
    "ThrottleDecision",
    "TwilioSmsSender",
    "TwilioVoiceSender",
    "VerificationLevel",
    "VerificationSettings",
    "VerifyOutcome",
    "VoiceSender",
    "VonageSmsSender",
    "mask_phone",
    "normalize_phone",
    "parse_spoken_code",
]
