"""AWS SNS SMS through boto3, run in a worker thread so the call's event loop never waits.

boto3 is blocking and optional (the `aws` extra), so it is imported when a sender is built
and every publish runs in `asyncio.to_thread`. botocore's own retries are off: failover
decides retries, and SDK retries would only burn the caller's deadline. Its DEBUG logs
carry the whole request (message text included), so this module redacts them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from ..env import ConfigurationError
from ..phone import mask_phone
from .base import SmsDeliveryError, SmsReceipt
from .errors import (
    INVALID_NUMBER,
    OPTED_OUT,
    UNREACHABLE,
    Verdict,
    missing_extra,
    not_delivered,
    not_sent,
    refused,
)

logger = logging.getLogger(__name__)

PROVIDER = "sns"
MISSING_EXTRA = missing_extra(PROVIDER, "aws")

_NOT_RETRYABLE: dict[str, str] = {
    "InvalidParameter": INVALID_NUMBER,  # e.g. PhoneNumber is not a valid E.164 number
    "ParameterValueInvalid": INVALID_NUMBER,
    "ValidationException": UNREACHABLE,
    "OptedOut": OPTED_OUT,
}
_THROTTLED = frozenset(
    {
        "Throttling",
        "Throttled",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "KMSThrottling",
    }
)
# Credentials/IAM/account set-up: this provider is useless until fixed, another may work.
_ACCOUNT = frozenset(
    {
        "AuthorizationError",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
        "AccessDenied",
        "AccessDeniedException",
        "InvalidSecurity",
        "ExpiredToken",
        "OptInRequired",
        "KMSAccessDenied",
    }
)


def sns_error_verdict(status: int | None, code: str | None) -> Verdict:
    """Map an SNS error code and HTTP status to a verdict (the whole table lives here).

    Invalid numbers/parameters are final; throttling, 5xx and unknown codes are retryable;
    credential and IAM errors are retryable (another provider can still send) but flagged
    `misconfigured` so they are logged at ERROR.
    """
    if code in _NOT_RETRYABLE:
        return Verdict(retryable=False, reason=_NOT_RETRYABLE[code])
    if code in _ACCOUNT or status in (401, 403):
        return Verdict(retryable=True, misconfigured=True)
    if code in _THROTTLED or status == 429:
        return Verdict(retryable=True)
    return Verdict(retryable=True)  # 5xx and anything unknown


class _RedactPayloadFilter(logging.Filter):
    """Cuts request/response payloads out of botocore's DEBUG lines (they hold the SMS text)."""

    MARKERS = ("with params:", "Response body:", "Response headers:", "Request body:")

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        cut = min((i + len(m) for m in self.MARKERS if (i := text.find(m)) >= 0), default=-1)
        if cut >= 0:
            record.msg = text[:cut] + " [redacted]"
            record.args = ()
        return True


_REDACTED_LOGGERS = ("botocore.endpoint", "botocore.parsers", "botocore.httpsession")
_filter_lock = threading.Lock()


def _install_botocore_redaction() -> None:
    with _filter_lock:
        for name in _REDACTED_LOGGERS:
            target = logging.getLogger(name)
            if not any(isinstance(f, _RedactPayloadFilter) for f in target.filters):
                target.addFilter(_RedactPayloadFilter())


class SnsSmsSender:
    """Sends transactional SMS with `sns.publish`, off the event loop.

    The boto3 client is built lazily in the worker thread (building it reads model files),
    unless one is passed in. `endpoint_url` points it at a stand-in.
    """

    provider = PROVIDER

    def __init__(
        self,
        *,
        region_name: str,
        client: Any | None = None,
        timeout: float = 5.0,
        sender_id: str | None = None,
        endpoint_url: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        sms_type: str = "Transactional",
    ) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise ConfigurationError(MISSING_EXTRA) from exc
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if not region_name:
            raise ValueError("SNS needs a region (AWS_REGION)")
        self._boto3 = boto3
        self._config = Config(
            region_name=region_name,
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"total_max_attempts": 1, "mode": "standard"},
        )
        self._region_name = region_name
        self._endpoint_url = endpoint_url
        self._keys = (aws_access_key_id, aws_secret_access_key)
        self._client = client
        self._client_lock = threading.Lock()
        self._timeout = timeout
        self._attributes: dict[str, dict[str, str]] = {
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": sms_type},
        }
        if sender_id:
            self._attributes["AWS.SNS.SMS.SenderID"] = {
                "DataType": "String",
                "StringValue": sender_id,
            }
        _install_botocore_redaction()

    def __repr__(self) -> str:
        return (
            f"SnsSmsSender(region_name={self._region_name!r}, endpoint_url={self._endpoint_url!r})"
        )

    def _get_client(self) -> Any:
        with self._client_lock:
            if self._client is None:
                session = self._boto3.session.Session(
                    aws_access_key_id=self._keys[0], aws_secret_access_key=self._keys[1]
                )
                self._client = session.client(
                    "sns", endpoint_url=self._endpoint_url, config=self._config
                )
            return self._client

    def _publish(self, to: str, body: str) -> str:
        response = self._get_client().publish(
            PhoneNumber=to, Message=body, MessageAttributes=self._attributes
        )
        return str(response.get("MessageId", ""))

    async def send(self, to: str, body: str) -> SmsReceipt:
        """Publish `body` to `to`; raise `SmsDeliveryError` (never botocore's exceptions)."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        masked = mask_phone(to)
        try:
            async with asyncio.timeout(self._timeout):
                message_id = await asyncio.to_thread(self._publish, to, body)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            meta = exc.response.get("ResponseMetadata", {})
            raise self._rejected(meta.get("HTTPStatusCode"), error.get("Code"), masked) from None
        except NoCredentialsError:
            raise not_delivered(
                logger, PROVIDER, "no AWS credentials found", "credentials", masked,
                misconfigured=True,
            ) from None  # fmt: skip
        except Exception as exc:
            raise not_sent(
                logger, PROVIDER, exc, masked, timeout=self._timeout,
                network_errors=(BotoCoreError, OSError),
            ) from None  # fmt: skip
        logger.debug(
            "sns accepted SMS",
            extra={"sms_provider": PROVIDER, "sms_to": masked, "sms_message_id": message_id},
        )
        return SmsReceipt(provider=PROVIDER, message_id=message_id)

    @staticmethod
    def _rejected(status: Any, code: Any, masked: str) -> SmsDeliveryError:
        status = status if isinstance(status, int) else None
        code = str(code) if code else None
        verdict = sns_error_verdict(status, code)
        return refused(
            logger,
            PROVIDER, verdict, masked, status=status, code=code,
            hint="the AWS credentials and SNS permissions",
        )  # fmt: skip
