"""Delivery: the text-message senders, kept apart from verification (django-otp's lesson).

`SmsSender` is the protocol (`send`, `aclose`); each provider lives in its own module, and
`FailoverSmsSender` sits beside them as the adapter that tries them in order. Provider SDKs
(twilio, boto3, vonage) are imported only by their own module.
"""

from .base import SmsDeliveryError, SmsReceipt, SmsSender
from .console import ConsoleSmsSender
from .failover import FailoverSmsSender

__all__ = ["ConsoleSmsSender", "FailoverSmsSender", "SmsDeliveryError", "SmsReceipt", "SmsSender"]
