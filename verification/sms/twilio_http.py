"""The twilio SDK's async client for one account: what the SMS and the call senders share.

This module imports the SDK (the `twilio` extra), so the senders import it only when one is
built: `import verification` needs no provider SDK. The blocking `twilio.rest.Client`
default would stall every call on the worker for the whole HTTP round trip (security rule
9); here the SDK talks through `AsyncTwilioHttpClient` and one reused aiohttp session.
`base_url` rewrites `https://*.twilio.com` to a local stand-in, which is how the tests drive
the real SDK without Twilio.
"""

from __future__ import annotations

import base64
import logging
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

# The SDK imports the Messages and Calls APIs lazily on first use (~0.3 s of module loading);
# import them now, when a sender is built at start-up, so the first caller's send does not
# stall the event loop on imports.
from twilio.rest.api.v2010 import account as _twilio_account  # noqa: F401
from twilio.twiml.voice_response import VoiceResponse

logger = logging.getLogger("verification.sms.twilio")


class RebasedAsyncHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The SDK's async client, pointed at `base_url` and without its request logging.

    The SDK logs every request (URL, headers) at INFO on `twilio.async_http_client`; we log
    one safe line at DEBUG instead, so nothing about a send depends on the SDK's logging.
    """

    def __init__(self, base_url: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._base = base_url.rstrip("/") if base_url else None

    def _rebase(self, url: str) -> str:
        return url if self._base is None else _rebased(self._base, url)

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
        """The SDK's request, with the form body encoded here (see `_form_body`)."""
        if auth is not None:
            # aiohttp 3.14 deprecates the BasicAuth object the SDK would build (gone in 4.0);
            # the header is the same bytes on the wire.
            headers = {**(headers or {}), "Authorization": _basic(*auth)}
        return await super().request(
            method,
            self._rebase(url),
            params=params,
            data=_form_body(data),
            headers=headers,
            auth=None,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )

    def log_request(self, kwargs: dict[str, Any]) -> None:
        if logger.isEnabledFor(logging.DEBUG):  # the path is only parsed for a reader
            logger.debug("twilio request %s %s", kwargs["method"], urlsplit(kwargs["url"]).path)

    def log_response(self, status_code: int, response: Any) -> None:
        logger.debug("twilio response %s", status_code)


@lru_cache(maxsize=64)
def _rebased(base_url: str, url: str) -> str:
    """`url` on `base_url` if it is a Twilio URL (an account uses a handful: parsed once)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host != "twilio.com" and not host.endswith(".twilio.com"):
        return url
    base = urlsplit(base_url)
    return urlunsplit((base.scheme, base.netloc, base.path + parts.path, parts.query, ""))


@lru_cache(maxsize=8)
def _basic(username: str, password: str) -> str:
    """The Basic `Authorization` header value for an account (built once, not per send)."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _form_body(data: dict[str, object] | None) -> bytes | None:
    """The form the SDK hands over, url-encoded as the `Content-Type` it set says.

    Given a dict, aiohttp builds a `FormData`, whose multipart writer draws a random boundary
    from `os.urandom` for every request, even one sent url-encoded: a system call on the event
    loop per send that a busy host can stall for milliseconds. The bytes are the same.
    """
    if data is None:
        return None
    return urlencode(data, doseq=True).encode("ascii")


class TwilioConnection:
    """One account's SDK client on one aiohttp session, made on first use (the session must
    be born inside the running loop) and reused; `aclose()` ends it, a later use reopens."""

    # What a send may raise besides our own errors: Twilio said no, or the network failed.
    rest_errors: tuple[type[Exception], ...] = (TwilioRestException, TwilioServiceException)
    network_errors: tuple[type[BaseException], ...] = (aiohttp.ClientError, OSError)

    def __init__(self, account_sid: str, auth_token: str, base_url: str | None) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._base_url = base_url
        self._http: RebasedAsyncHttpClient | None = None
        self._client: Client | None = None

    def client(self) -> Client:
        if self._client is None:
            self._http = RebasedAsyncHttpClient(self._base_url, pool_connections=True)
            self._client = Client(self._account_sid, self._auth_token, http_client=self._http)
        return self._client

    async def aclose(self) -> None:
        http, self._http, self._client = self._http, None, None
        if http is not None:
            await http.close()


def say_twiml(sentences: list[str], *, language: str, voice: str, pause_seconds: int) -> str:
    """TwiML that waits `pause_seconds` for the callee to bring the phone to their ear, then
    says each sentence with `<Say language voice>`, a pause after each (the SDK's builder
    escapes the text)."""
    response = VoiceResponse()
    response.pause(length=pause_seconds)
    for sentence in sentences:
        response.say(sentence, language=language, voice=voice)
        response.pause(length=pause_seconds)
    return str(response.to_xml(xml_declaration=False))
