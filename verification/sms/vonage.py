"""Vonage SMS through the official v4 SDK, run in a worker thread so the call never waits.

The SDK is blocking (requests) and optional (the `vonage` extra), so it is imported when a
sender is built and every send runs in `asyncio.to_thread`. Its HTTP retries are off:
failover decides retries. The SDK logs the request data (message text, and after the
first request the Authorization header) at DEBUG and error bodies at WARNING on the
`vonage` logger; this module redacts those lines.

The SDK always speaks `https://{rest_host}`: it cannot do plain http. `rest_host` points it
at a stand-in that serves TLS with a test certificate (trusted via REQUESTS_CA_BUNDLE).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import math
import re
import threading
from typing import Any

from ..env import ConfigurationError
from ..phone import mask_phone
from .base import SmsDeliveryError, SmsReceipt
from .errors import INVALID_NUMBER, UNREACHABLE, Verdict, missing_extra, not_sent, refused

logger = logging.getLogger(__name__)

PROVIDER = "vonage"
MISSING_EXTRA = missing_extra(PROVIDER, "vonage")

# Vonage SMS API statuses (https://developer.vonage.com/messaging/sms/guides/troubleshooting-sms).
_VONAGE_STATUS: dict[str, Verdict] = {
    "1": Verdict(retryable=True),  # throttled
    "2": Verdict(retryable=False, reason=INVALID_NUMBER),  # missing parameters
    "3": Verdict(retryable=False, reason=INVALID_NUMBER),  # invalid parameters (e.g. 'to')
    "4": Verdict(retryable=True, misconfigured=True),  # invalid credentials
    "5": Verdict(retryable=True),  # internal error
    "6": Verdict(retryable=False, reason=UNREACHABLE),  # invalid message / unroutable
    "7": Verdict(retryable=False, reason=UNREACHABLE),  # number barred
    "8": Verdict(retryable=True, misconfigured=True),  # partner account barred
    "9": Verdict(retryable=True, misconfigured=True),  # partner quota / no balance
    "10": Verdict(retryable=True),  # too many existing binds
    "11": Verdict(retryable=True, misconfigured=True),  # account not enabled for HTTP
    "12": Verdict(retryable=False),  # message too long
    "14": Verdict(retryable=True, misconfigured=True),  # invalid signature
    "15": Verdict(retryable=True, misconfigured=True),  # invalid sender address
    "22": Verdict(retryable=True, misconfigured=True),  # invalid network code
    "29": Verdict(retryable=True, misconfigured=True),  # non-whitelisted destination (demo account)
    "32": Verdict(retryable=True, misconfigured=True),  # signature and api secret disallowed
    "33": Verdict(retryable=False, reason=UNREACHABLE),  # number de-activated
}


def vonage_error_verdict(status: str | None, http_status: int | None = None) -> Verdict:
    """Map a Vonage SMS status (or an HTTP status) to a verdict (the whole table lives here).

    Recipient problems (invalid/unroutable/barred numbers) are final; throttling, internal
    errors, 5xx and unknown statuses are retryable; account problems (credentials, balance,
    a demo account's whitelist) are retryable so failover moves on, flagged `misconfigured`.
    """
    if status is not None and status in _VONAGE_STATUS:
        return _VONAGE_STATUS[status]
    if http_status in (401, 403):
        return Verdict(retryable=True, misconfigured=True)
    return Verdict(retryable=True)  # 429, 5xx and anything unknown


class _RedactPayloadFilter(logging.Filter):
    """Cuts request data, headers and response bodies out of the Vonage SDK's log lines."""

    MARKERS = ("with data:", "; headers:", "; content:", "Error response body")

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        cut = min((i for i in (text.find(m) for m in self.MARKERS) if i >= 0), default=-1)
        if cut >= 0:
            record.msg = text[:cut] + " [redacted]"
            record.args = ()
        return True


_filter_lock = threading.Lock()
_STATUS_IN_ERROR = re.compile(r"error code (\d+)")


def _install_vonage_redaction() -> None:
    with _filter_lock:
        target = logging.getLogger("vonage")
        if not any(isinstance(f, _RedactPayloadFilter) for f in target.filters):
            target.addFilter(_RedactPayloadFilter())


class VonageSmsSender:
    """Sends SMS with Vonage's SMS API (`client.sms.send`), off the event loop."""

    provider = PROVIDER

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        from_number: str,
        *,
        timeout: float = 5.0,
        rest_host: str | None = None,
        validity_seconds: int | None = None,
    ) -> None:
        try:
            from vonage import Auth, HttpClientOptions, Vonage

            # vonage's sub-packages ship no type marker; import_module keeps mypy strict here.
            sms_module = importlib.import_module("vonage_sms")
            http_errors = importlib.import_module("vonage_http_client.errors")
            requests_module = importlib.import_module("requests")
        except ImportError as exc:
            raise ConfigurationError(MISSING_EXTRA) from exc
        self._message_type: Any = sms_module.SmsMessage
        self._sms_error: type[Exception] = sms_module.SmsError
        self._http_error: type[Exception] = http_errors.HttpRequestError
        self._transport_error: type[Exception] = requests_module.RequestException
        if not api_key or not api_secret or not from_number:
            raise ValueError("Vonage needs an API key, an API secret and a sender number")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        options: dict[str, Any] = {
            "timeout": max(1, math.ceil(timeout)),  # the SDK takes whole seconds
            "max_retries": 0,
        }
        if rest_host:
            options["rest_host"] = rest_host
        self._client = Vonage(
            Auth(api_key=api_key, api_secret=api_secret), HttpClientOptions(**options)
        )
        self._from_number = from_number
        self._rest_host = rest_host
        self._timeout = timeout
        # Vonage's ttl is in milliseconds, 20 s minimum.
        self._ttl_ms = max(20_000, validity_seconds * 1000) if validity_seconds else None
        _install_vonage_redaction()

    def __repr__(self) -> str:
        return f"VonageSmsSender(rest_host={self._rest_host!r}, timeout={self._timeout!r})"

    def _send(self, to: str, body: str) -> str:
        fields: dict[str, Any] = {"to": to.lstrip("+"), "from_": self._from_number, "text": body}
        if self._ttl_ms is not None:
            fields["ttl"] = self._ttl_ms
        response = self._client.sms.send(self._message_type(**fields))
        return str(response.messages[0].message_id or "")

    async def send(self, to: str, body: str) -> SmsReceipt:
        """Send `body` to `to`; raise `SmsDeliveryError` (never the SDK's exceptions)."""
        masked = mask_phone(to)
        try:
            async with asyncio.timeout(self._timeout):
                message_id = await asyncio.to_thread(self._send, to, body)
        except self._sms_error as exc:
            # The SDK keeps only "failed with error code N: <error-text>"; the text may quote
            # the number, so only the status is kept.
            match = _STATUS_IN_ERROR.search(str(exc))
            raise self._rejected(match.group(1) if match else None, None, masked) from None
        except self._http_error as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            raise self._rejected(None, status, masked) from None
        except Exception as exc:
            raise not_sent(
                logger, PROVIDER, exc, masked, timeout=self._timeout,
                network_errors=(self._transport_error, OSError),
            ) from None  # fmt: skip
        logger.debug(
            "vonage accepted SMS",
            extra={"sms_provider": PROVIDER, "sms_to": masked, "sms_message_id": message_id},
        )
        return SmsReceipt(provider=PROVIDER, message_id=message_id)

    @staticmethod
    def _rejected(status: str | None, http_status: int | None, masked: str) -> SmsDeliveryError:
        verdict = vonage_error_verdict(status, http_status)
        code: str | int | None = status if status is not None else http_status
        return refused(
            logger,
            PROVIDER, verdict, masked, status=http_status, code=code,
            hint="the Vonage account and sender",
        )  # fmt: skip
