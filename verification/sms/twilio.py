"""Twilio SMS through the official SDK's async HTTP client, so a send never blocks the call.

The SDK (the `twilio` extra) is reached through `twilio_http.TwilioConnection`, imported when
a sender is built, so this module loads without it. `base_url` points the SDK at a local
stand-in, which is how the tests drive the real SDK without Twilio.

Every failure becomes one `SmsDeliveryError`; `twilio_error_verdict` is the single table that
decides which Twilio errors another provider might fix (retryable) and which are about the
recipient (not retryable). Twilio's own error text quotes the full phone number, so it is
never copied into our errors or logs, and the SDK's exception is not chained.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..env import ConfigurationError
from ..phone import mask_phone
from .base import SmsReceipt
from .errors import (
    INVALID_NUMBER,
    NOT_MOBILE,
    OPTED_OUT,
    REGION_BLOCKED,
    Kind,
    Verdict,
    missing_extra,
    not_sent,
    refused,
)

if TYPE_CHECKING:
    from twilio.rest import Client

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
# Our sender is not registered with the US carriers, which block every text from it until
# it is (docs/operations.md, "Going live"). Twilio reports these on the message's delivery
# status (status callbacks, the Console's message logs), not when the message is created;
# wherever they surface, they are ours to fix and another provider may still deliver.
GO_LIVE_ERRORS: dict[int, str] = {
    30032: "the toll-free verification of the sending number",
    30034: "the A2P 10DLC registration of the sending number",
}
# Our account is wrong (credentials, sender number): this provider is useless until fixed,
# but another provider may still deliver, so these are retryable and logged at ERROR.
_ACCOUNT_ERRORS = frozenset({20003, 20005, 20404, 21212, 21606, 21608, 21659, *GO_LIVE_ERRORS})


def twilio_error_verdict(status: int | None, code: int | None) -> Verdict:
    """Map a Twilio HTTP status and error code on a message to a verdict.

    Recipient problems (invalid, landline, opted out, region) are final. Throttling (20429,
    HTTP 429), carrier delivery failures (30003-30008), 5xx, and anything unknown are
    retryable. Authentication failures (20003, HTTP 401) and an unregistered sender (30034,
    30032) are retryable on purpose: this provider cannot send until someone fixes its
    account, but another provider can, so failover should move on; they are flagged
    `misconfigured` so the sender logs at ERROR, naming what to fix.
    """
    return table_verdict(status, code, _RECIPIENT_ERRORS, _ACCOUNT_ERRORS)


def table_verdict(
    status: int | None,
    code: int | None,
    recipient: Mapping[int, str],
    account: frozenset[int],
) -> Verdict:
    """The one shape of every Twilio verdict: a recipient error is final (with its sentence);
    an account error is retryable and `misconfigured`; throttling, 5xx and anything we do not
    recognise are retryable (a rejected request sent nothing, so another try is safe)."""
    if code is not None and code in recipient:
        return Verdict(retryable=False, reason=recipient[code])
    if code in account or status in (401, 403):
        return Verdict(retryable=True, misconfigured=True)
    return Verdict(retryable=True)


class TwilioAccount:
    """What Twilio's senders share: one account's SDK client on one reused aiohttp session,
    created on the first send (it must be born inside the running loop); `aclose()` at
    shutdown. `timeout` bounds each request with `asyncio.timeout`, because the SDK's async
    client does not apply one itself. A `ConfigurationError` names the extra without the SDK.
    """

    provider = PROVIDER

    def __init__(
        self, account_sid: str, auth_token: str, base_url: str | None, timeout: float
    ) -> None:
        if not account_sid or not auth_token:
            raise ValueError("Twilio needs an account SID and an auth token")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        try:
            from .twilio_http import TwilioConnection
        except ImportError as exc:
            raise ConfigurationError(missing_extra(PROVIDER, "twilio")) from exc
        self._connection = TwilioConnection(account_sid, auth_token, base_url)
        self._base_url = base_url
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r}, timeout={self._timeout!r})"

    async def aclose(self) -> None:
        """Close the shared HTTP session; a later send opens a new one."""
        await self._connection.aclose()

    async def _create(
        self,
        create: Callable[[Client], Awaitable[object]],
        masked: str,
        *,
        log: logging.Logger,
        verdict: Callable[[int | None, int | None], Verdict],
        hint: Callable[[int | None], str],
        kind: Kind,
        accepted: str,
    ) -> SmsReceipt:
        """`create(client)` (a message or a call) within the timeout, and its receipt. Every
        failure becomes one `SmsDeliveryError`, logged on the sender module's `log`: Twilio's
        refusal judged by `verdict` (with `hint`, what to check), anything else by `not_sent`.
        """
        try:
            async with asyncio.timeout(self._timeout):
                created = await create(self._connection.client())
        except self._connection.rest_errors as exc:
            status, code = error_status_and_code(exc)
            raise refused(
                log, PROVIDER, verdict(status, code), masked, status=status, code=code,
                hint=hint(code), kind=kind,
            ) from None  # fmt: skip
        except Exception as exc:
            raise not_sent(
                log, PROVIDER, exc, masked, timeout=self._timeout,
                network_errors=self._connection.network_errors, kind=kind,
            ) from None  # fmt: skip
        sid = str(getattr(created, "sid", "") or "")
        log.debug(
            accepted, extra={"sms_provider": PROVIDER, "sms_to": masked, "sms_message_id": sid}
        )
        return SmsReceipt(provider=PROVIDER, message_id=sid)


class TwilioSmsSender(TwilioAccount):
    """Sends SMS with Twilio's Messages API using the SDK's async client (see `TwilioAccount`)."""

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
        if not from_number and not messaging_service_sid:
            raise ValueError("Twilio needs a sender number or a messaging service SID")
        if validity_seconds is not None and not 1 <= validity_seconds <= 36000:
            raise ValueError("validity_seconds must be between 1 and 36000")
        super().__init__(account_sid, auth_token, base_url, timeout)
        self._from_number = from_number
        self._messaging_service_sid = messaging_service_sid
        self._validity_seconds = validity_seconds

    async def send(self, to: str, body: str) -> SmsReceipt:
        """Send `body` to `to`; raise `SmsDeliveryError` (never the SDK's exceptions)."""
        kwargs: dict[str, Any] = {"to": to, "body": body}
        if self._messaging_service_sid:
            kwargs["messaging_service_sid"] = self._messaging_service_sid
        else:
            kwargs["from_"] = self._from_number
        if self._validity_seconds is not None:
            kwargs["validity_period"] = self._validity_seconds
        return await self._create(
            lambda client: client.messages.create_async(**kwargs),
            mask_phone(to),
            log=logger,
            verdict=twilio_error_verdict,
            hint=_sms_hint,
            kind="SMS",
            accepted="twilio accepted SMS",
        )


def _sms_hint(code: int | None) -> str:
    """What to check when Twilio refuses a text because of our account."""
    return GO_LIVE_ERRORS.get(code or 0, "the Twilio credentials and sender")


def error_status_and_code(exc: BaseException) -> tuple[int | None, int | None]:
    """The HTTP status and Twilio error code an SDK exception carries (never its text: Twilio's
    messages quote the full phone number)."""
    return _as_int(getattr(exc, "status", None)), _as_int(getattr(exc, "code", None))


def _as_int(value: object) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None
