"""Caller verification by SMS one-time code. No LiveKit imports: usable from any front end."""

from .codes import code_digest, generate_code
from .directory import PhoneDirectory
from .env import ConfigurationError, is_production
from .levels import VerificationLevel
from .outcomes import RequestOutcome, VerifyOutcome
from .pepper import load_pepper
from .phone import mask_phone, normalize_phone
from .policy import KnowledgePolicy, OtpPolicy
from .service import OtpService
from .sms.base import SmsDeliveryError, SmsReceipt, SmsSender
from .sms.console import ConsoleSmsSender
from .sms.failover import FailoverSmsSender
from .sms.sns import SnsSmsSender
from .sms.twilio import TwilioSmsSender
from .sms.vonage import VonageSmsSender
from .spoken import parse_spoken_code
from .stores.base import OtpStore, StoreUnavailable
from .stores.redis import RedisOtpStore
from .stores.sqlite import SqliteOtpStore
from .throttle import IdentityThrottle, ThrottleDecision

__all__ = [
    "ConfigurationError",
    "ConsoleSmsSender",
    "FailoverSmsSender",
    "IdentityThrottle",
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
    "StoreUnavailable",
    "ThrottleDecision",
    "TwilioSmsSender",
    "VerificationLevel",
    "VerifyOutcome",
    "VonageSmsSender",
    "code_digest",
    "generate_code",
    "is_production",
    "load_pepper",
    "mask_phone",
    "normalize_phone",
    "parse_spoken_code",
]
