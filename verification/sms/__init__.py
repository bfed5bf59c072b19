"""Delivery: the senders that carry a code, kept apart from verification (django-otp's lesson).

`SmsSender` (a text) and `VoiceSender` (an automated call that says it) are the protocols:
`send` is all they ask, `aclose` is optional and `close_sender` closes any sender. Each
provider lives in its own module; `FailoverSmsSender` sits beside them as the adapter that
tries them in order, with circuit breakers on a shared store (`breakers`). `SmsSettings`
parses every delivery variable and builds the senders. Provider SDKs (twilio, boto3, vonage)
are extras, imported only when a sender of theirs is built.
"""

from .base import SmsDeliveryError, SmsReceipt, SmsSender, VoiceSender, close_sender
from .console import ConsoleSmsSender, ConsoleVoiceSender
from .failover import FailoverSmsSender
from .settings import SmsSettings
from .sns import SnsSmsSender
from .twilio import TwilioSmsSender
from .twilio_voice import TwilioVoiceSender
from .vonage import VonageSmsSender

__all__ = [
    "ConsoleSmsSender",
    "ConsoleVoiceSender",
    "FailoverSmsSender",
    "SmsDeliveryError",
    "SmsReceipt",
    "SmsSender",
    "SmsSettings",
    "SnsSmsSender",
    "TwilioSmsSender",
    "TwilioVoiceSender",
    "VoiceSender",
    "VonageSmsSender",
    "close_sender",
]
