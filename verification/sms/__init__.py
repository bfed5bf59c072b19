"""Delivery: the text-message senders, kept apart from verification (django-otp's lesson).

`SmsSender` is the protocol (`send`; `aclose` is optional, and `close_sender` closes any
sender); each provider lives in its own module, and `FailoverSmsSender` sits beside them as the
adapter that tries them in order. Provider SDKs (twilio, boto3, vonage) are imported only by
their own module.
"""

from .base import SmsDeliveryError, SmsReceipt, SmsSender, close_sender
from .console import ConsoleSmsSender
from .failover import FailoverSmsSender

__all__ = [
    "ConsoleSmsSender",
    "FailoverSmsSender",
    "SmsDeliveryError",
    "SmsReceipt",
    "SmsSender",
    "close_sender",
]
