"""Caller verification by one-time code (a text or an automated call), for any front end.

What a host uses is here; everything else lives in private modules (httpx's way): stores,
senders, settings, outcomes, the limits they enforce. Nothing here imports LiveKit (the
plugin is `verification.livekit`), and the optional SDKs load only when first needed (redis
when `RedisOtpStore` is first named, twilio, boto3 and vonage when a sender of theirs is
built), so `import verification` needs only phonenumbers:

    from verification import OtpService, SqliteOtpStore        # no extra needed
    from verification import RedisOtpStore                     # needs the 'redis' extra
"""

from __future__ import annotations

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
from .sms.sns import SnsSmsSender
from .sms.twilio import TwilioSmsSender
from .sms.twilio_voice import TwilioVoiceSender
from .sms.vonage import VonageSmsSender
from .spoken import parse_spoken_code
from .stores.base import BreakerStore, CodeStore, CounterStore, OtpStore, StoreUnavailable
from .stores.sqlite import SqliteOtpStore
from .throttle import IdentityThrottle, KeyedCounters, ThrottleDecision

if TYPE_CHECKING:
    from .stores.redis import RedisOtpStore


def __getattr__(name: str) -> Any:
    """`RedisOtpStore`, imported on first use: its module imports redis (the 'redis' extra).
    The senders need no such hook: their modules import a provider's SDK only when one is
    built."""
    if name != "RedisOtpStore":
        raise AttributeError(f"module 'verification' has no attribute {name!r}")
    try:
        from .stores.redis import RedisOtpStore
    except ImportError as exc:
        raise ImportError(
            f"verification.{name} needs the 'redis' extra (its SDK is not installed: {exc})"
        ) from exc
    globals()[name] = RedisOtpStore
    return RedisOtpStore


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
