"""Prometheus metrics for verification: outcomes and SMS delivery, never who or what.

Label values come only from fixed sets (outcome names, provider names, provider error codes
that pass `safe_label`), so no phone number or code can ever become a label. In `start` mode
LiveKit's worker serves the default registry on `METRICS_PORT`, collecting job processes
through Prometheus' multiprocess mode. Without prometheus-client (the plugin's `metrics`
extra) every metric here counts nothing, so `import verification` needs no extra.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram
else:
    try:
        from prometheus_client import Counter, Histogram
    except ImportError:  # the 'metrics' extra is not installed

        class Counter:
            """Stands in for a metric when prometheus-client is absent: counts nothing."""

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                pass

            def labels(self, *args: Any, **kwargs: Any) -> Counter:
                return self

            def inc(self, amount: float = 1) -> None:
                pass

            def observe(self, amount: float) -> None:
                pass

        Histogram = Counter

# An SMS round trip is 0.1-2 s in practice; the deadline is 8 s.
SMS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)

OTP_REQUESTS = Counter(
    "clinic_otp_requests",
    "Code requests by outcome (sent, invalid_phone, locked, cooldown, rate_limited, "
    "unavailable). A number not on file counts as sent: the caller heard that.",
    ["outcome"],
)
OTP_VERIFICATIONS = Counter(
    "clinic_otp_verifications",
    "Code checks by outcome (verified, wrong_code, expired, no_code, locked, malformed, "
    "unavailable).",
    ["outcome"],
)
OTP_DELIVERIES = Counter(
    "clinic_otp_deliveries",
    "Codes texted in the background by outcome (sent, failed). Decoys send nothing, so this "
    "tells real sends from decoys: keep /metrics on localhost (METRICS_HOST).",
    ["outcome"],
)
OTP_PHONE_CEILINGS = Counter(
    "clinic_otp_phone_ceilings",
    "Per-phone ceilings that filled (failures: wrong guesses from all callers; sends: codes "
    "from all callers), each time one fills. Someone may be attacking that patient: the "
    "audit event otp.phone_ceiling_reached names the masked number and its phone_ref.",
    ["ceiling"],
)
OTP_CODES_SENT = Counter(
    "clinic_otp_codes_sent",
    "Codes a provider accepted (texts and calls to numbers on file), by the number's country "
    "calling code (1, 44, ...) and channel (sms, call). Against clinic_otp_codes_verified per "
    "country: many sends and few verifications from one country is SMS pumping.",
    ["country", "channel"],
)
OTP_CODES_VERIFIED = Counter(
    "clinic_otp_codes_verified",
    "Codes verified, by the number's country calling code (1, 44, ...).",
    ["country"],
)
OTP_SENDING_PAUSED = Counter(
    "clinic_otp_sending_paused",
    "Code requests refused because the daily send budget is spent, or sending is switched "
    "off (OTP_DAILY_SEND_BUDGET=0). Every caller hears the same; alert on any.",
)
SMS_SEND_SECONDS = Histogram(
    "clinic_sms_send_seconds",
    "Time one SMS provider took to accept or refuse a message.",
    ["provider"],
    buckets=SMS_BUCKETS,
)
SMS_FAILURES = Counter(
    "clinic_sms_failures",
    "Messages a provider did not accept, by provider and error code.",
    ["provider", "error_code"],
)

_SAFE_LABEL = re.compile(r"[A-Za-z0-9_.-]{1,24}")


def safe_label(value: object) -> str:
    """A label value from a provider's error code, or "other" if it could carry anything else."""
    text = str(value)
    # 6+ digits could be a code or part of a phone number: never a label
    if value is None or not _SAFE_LABEL.fullmatch(text) or (text.isdigit() and len(text) >= 6):
        return "other"
    return text


def record_sms_attempt(provider: str, seconds: float, error_code: object | None = None) -> None:
    SMS_SEND_SECONDS.labels(provider=safe_label(provider)).observe(seconds)
    if error_code is not None:
        SMS_FAILURES.labels(provider=safe_label(provider), error_code=safe_label(error_code)).inc()


# `.labels()` looks the child up under a lock on every call; a guess should not pay that.
_REQUEST_CHILDREN: dict[str, Counter] = {}
_VERIFY_CHILDREN: dict[str, Counter] = {}


def count_request(outcome: str) -> None:
    child = _REQUEST_CHILDREN.get(outcome)
    if child is None:
        child = _REQUEST_CHILDREN[outcome] = OTP_REQUESTS.labels(outcome=outcome)
    child.inc()


def count_verification(outcome: str) -> None:
    child = _VERIFY_CHILDREN.get(outcome)
    if child is None:
        child = _VERIFY_CHILDREN[outcome] = OTP_VERIFICATIONS.labels(outcome=outcome)
    child.inc()


def count_ceiling(ceiling: str) -> None:
    OTP_PHONE_CEILINGS.labels(ceiling=ceiling).inc()


def count_code_sent(calling_code: str, channel: str) -> None:
    OTP_CODES_SENT.labels(country=safe_label(calling_code), channel=channel).inc()


def count_code_verified(calling_code: str) -> None:
    OTP_CODES_VERIFIED.labels(country=safe_label(calling_code)).inc()


def count_sending_paused() -> None:
    OTP_SENDING_PAUSED.inc()


def count_delivery(outcome: str) -> None:
    OTP_DELIVERIES.labels(outcome=outcome).inc()
