"""Moved to `tests/support/` (`twilio_standin`, `sns_standin`, `vonage_standin`,
`standin_server`); these names stay importable from here only until the last importers
outside the SMS suite (faults, load, enumeration tests, bench/calls.py) import the kit from
`tests/support/` directly."""

from tests.support.sns_standin import AWS_KEY_ID, AWS_SECRET, SnsStandIn
from tests.support.standin_server import Captured, Reply, StandIn, self_signed_tls
from tests.support.twilio_standin import TWILIO_SID, TWILIO_TOKEN, TwilioStandIn, twilio_error
from tests.support.vonage_standin import VONAGE_KEY, VONAGE_SECRET, VonageStandIn

__all__ = [
    "AWS_KEY_ID",
    "AWS_SECRET",
    "TWILIO_SID",
    "TWILIO_TOKEN",
    "VONAGE_KEY",
    "VONAGE_SECRET",
    "Captured",
    "Reply",
    "SnsStandIn",
    "StandIn",
    "TwilioStandIn",
    "VonageStandIn",
    "self_signed_tls",
    "twilio_error",
]
