"""Twilio SMS through the official SDK's async HTTP client, so a send never blocks the call.

The blocking `twilio.rest.Client` default would stall every call on the worker for the whole
HTTP round trip (security rule 9); here the SDK talks through `AsyncTwilioHttpClient` and
one reused aiohttp session. `base_url` rewrites `https://*.twilio.com` to a local stand-in,
which is how the tests drive the real SDK without Twilio.

Every failure becomes one `SmsDeliveryError`; `twilio_error_verdict` is the single table that
decides which Twilio errors another provider might fix (retryable) and which are about the
recipient (not retryable). Twilio's own error text quotes the full phone number, so it is
never copied into our errors or logs, and the SDK's exception is not chained.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

# The SDK imports the Messages API lazily on first use (~0.3 s of module loading); import it
# now, at start-up, so the first caller's send does not stall the event loop on imports.
from twilio.rest.api.v2010 import account as _twilio_account  # noqa: F401

from ..phone import mask_phone
from .base import SmsDeliveryError, SmsReceipt
from .errors import (
    INVALID_NUMBER,
    NOT_MOBILE,
    OPTED_OUT,
    REGION_BLOCKED,
    Verdict,
    not_sent,
    refused,
)

logger = logging.getLogger(__name__)

PROVIDER = "twilio"

# Twilio error codes about the recipient: no other provider or retry will help.
_RECIPIENT_ERRORS: dict[int, str] = {
    21211: INVALID_NUMBER,  # invalid 'To' number
    21217: INVALID_NUMBER,  # phone number does not appear to be valid
    21408: REGION_BLOCKED,  # permission to send to this region not enabled
    21610: OPTED_OUT,  # recipient replied STOP
    21612: NOT_MOBILE,  # 'To' number not currently reachable via SMS
    21614: NOT_MOBILE,  # 'To' number is not a mobile number
}
# Our account is wrong (credentials, sender number): this provider is useless until fixed,
# but another provider may still deliver, so these are retryable and logged at ERROR.
_ACCOUNT_ERRORS = frozenset({20003, 20005, 20404, 21212, 21606, 21608, 21659})


def twilio_error_verdict(status: int | None, code: int | None) -> Verdict:
    """Map a Twilio HTTP status and error code to a verdict (the whole table lives here).

    Recipient problems (invalid, landline, opted out, region) are final. Throttling (20429,
    HTTP 429), carrier delivery failures (30003-30008), 5xx, and anything unknown are
    retryable. Authentication failures (20003, HTTP 401) are retryable on purpose: this
    provider cannot send until someone fixes its credentials, but another provider can, so
    failover should move on; they are flagged `misconfigured` so the sender logs at ERROR.
    """
    if code in _RECIPIENT_ERRORS:
        return Verdict(retryable=False, reason=_RECIPIENT_ERRORS[code])
    if code in _ACCOUNT_ERRORS or status in (401, 403):
        return Verdict(retryable=True, misconfigured=True)
    if code == 20429 or status == 429:
        return Verdict(retryable=True)
    if code is not None and 30003 <= code <= 30008:
        return Verdict(retryable=True)
    # 5xx and anything we do not recognise: a rejected request sent nothing, so another
    # provider is safe to try.
    return Verdict(retryable=True)


class _RebasedAsyncHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The SDK's async client, pointed at `base_url` and without its request logging.

    The SDK logs every request (URL, headers) at INFO on `twilio.async_http_client`; we log
    one safe line at DEBUG instead, so nothing about a send depends on the SDK's logging.
    """

    def __init__(self, base_url: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._base = urlsplit(base_url.rstrip("/")) if base_url else None

    def _rebase(self, url: str) -> str:
        if self._base is None:
            return url
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host != "twilio.com" and not host.endswith(".twilio.com"):
            return url
        path = self._base.path + parts.path
        return urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, ""))

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the SDK's signature
        allow_redirects: bool = False,
    ) -> Response:
        if auth is not None:
            # aiohttp 3.14 deprecates the BasicAuth object the SDK would build (gone in 4.0);
            # the header is the same bytes on the wire.
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers = {**(headers or {}), "Authorization": f"Basic {token}"}
        return await super().request(
            method,
            self._rebase(url),
            params=params,
            data=data,
            headers=headers,
            auth=None,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )

    def log_request(self, kwargs: dict[str, Any]) -> None:
        logger.debug("twilio request %s %s", kwargs.get("method"), urlsplit(kwargs["url"]).path)

    def log_response(self, status_code: int, response: Any) -> None:
        logger.debug("twilio response %s", status_code)


class TwilioSmsSender:
    """Sends SMS with Twilio's Messages API using the SDK's async client.

    One aiohttp session is created on the first send (it must be born inside the running
    loop) and reused; call `aclose()` at shutdown. `timeout` bounds each send with
    `asyncio.timeout`, because the SDK's async client does not apply a timeout itself.
    """

    provider = PROVIDER

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str | None,
        *,
        base_url: str | None = None,
        timeout: float = 5.0,
        messaging_service_sid: str | None = None,
        validity_seconds: int | None = None,
    ) -> None:
        if not account_sid or not auth_token:
            raise ValueError("Twilio needs an account SID and an auth token")
        if not from_number and not messaging_service_sid:
            raise ValueError("Twilio needs a sender number or a messaging service SID")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if validity_seconds is not None and not 1 <= validity_seconds <= 36000:
            raise ValueError("validity_seconds must be between 1 and 36000")
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._from_number = from_number
        self._messaging_service_sid = messaging_service_sid
        self._base_url = base_url
        self._timeout = timeout
        self._validity_seconds = validity_seconds
        self._http: _RebasedAsyncHttpClient | None = None
        self._client: Client | None = None

    def __repr__(self) -> str:
        return f"TwilioSmsSender(base_url={self._base_url!r}, timeout={self._timeout!r})"

    def _get_client(self) -> Client:
        if self._client is None:
            self._http = _RebasedAsyncHttpClient(self._base_url, pool_connections=True)
            self._client = Client(self._account_sid, self._auth_token, http_client=self._http)
        return self._client

    async def aclose(self) -> None:
        """Close the shared HTTP session; a later send opens a new one."""
        http, self._http, self._client = self._http, None, None
        if http is not None:
            await http.close()

    async def send(self, to: str, body: str) -> SmsReceipt:
        """Send `body` to `to`; raise `SmsDeliveryError` (never the SDK's exceptions)."""
        masked = mask_phone(to)
        kwargs: dict[str, Any] = {"to": to, "body": body}
        if self._messaging_service_sid:
            kwargs["messaging_service_sid"] = self._messaging_service_sid
        else:
            kwargs["from_"] = self._from_number
        if self._validity_seconds is not None:
            kwargs["validity_period"] = self._validity_seconds
        try:
            async with asyncio.timeout(self._timeout):
                message = await self._get_client().messages.create_async(**kwargs)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise self._rejected(exc, masked) from None
        except Exception as exc:
            raise not_sent(
                logger, PROVIDER, exc, masked, timeout=self._timeout,
                network_errors=(aiohttp.ClientError, OSError),
            ) from None  # fmt: skip
        sid = str(getattr(message, "sid", "") or "")
        logger.debug(
            "twilio accepted SMS",
            extra={"sms_provider": PROVIDER, "sms_to": masked, "sms_message_id": sid},
        )
        return SmsReceipt(provider=PROVIDER, message_id=sid)

    @staticmethod
    def _rejected(
        exc: TwilioRestException | TwilioServiceException, masked: str
    ) -> SmsDeliveryError:
        status = _as_int(getattr(exc, "status", None))
        code = _as_int(getattr(exc, "code", None))
        verdict = twilio_error_verdict(status, code)
        return refused(
            logger,
            PROVIDER, verdict, masked, status=status, code=code,
            hint="the Twilio credentials and sender",
        )  # fmt: skip


def _as_int(value: object) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None
