"""Caller verification by SMS one-time code. No LiveKit imports: usable from any front end."""

from .codes import code_digest, generate_code
from .directory import PhoneDirectory
from .levels import VerificationLevel
from .outcomes import RequestOutcome, VerifyOutcome
from .pepper import ConfigurationError, load_pepper
from .phone import mask_phone, normalize_phone
from .policy import OtpPolicy
from .redis_store import RedisOtpStore
from .service import OtpService
from .sms import SmsDeliveryError, SmsReceipt, SmsSender
from .sms_console import ConsoleSmsSender
from .sms_failover import FailoverSmsSender
from .sms_sns import SnsSmsSender
from .sms_twilio import TwilioSmsSender
from .sms_vonage import VonageSmsSender
from .spoken import parse_spoken_code
from .sqlite_store import SqliteOtpStore
from .store import OtpStore, StoreUnavailable

__all__ = [
    "ConfigurationError",
    "ConsoleSmsSender",
    "FailoverSmsSender",
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
    "TwilioSmsSender",
    "VerificationLevel",
    "VerifyOutcome",
    "VonageSmsSender",
    "code_digest",
    "generate_code",
    "load_pepper",
    "mask_phone",
    "normalize_phone",
    "parse_spoken_code",
]
