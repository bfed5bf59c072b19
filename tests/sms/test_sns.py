"""SnsSmsSender: what is SNS's own (message attributes, its error codes, the aws extra).

What every sender must do is in test_contract.py; here, real boto3 against the local SNS
Query-API stand-in (dummy credentials), for what only SNS does.
"""

from __future__ import annotations

import sys

import pytest

from tests.support.constants import BODY, PHONE
from tests.support.sns_standin import AWS_KEY_ID, AWS_SECRET, SnsStandIn
from tests.support.standin_server import Reply
from verification.sms.base import SmsDeliveryError
from verification.sms.sns import SnsSmsSender, sns_error_verdict


def make_sender(url: str, **kwargs: object) -> SnsSmsSender:
    """A sender on the stand-in, with time to spare: boto3's first client is built on first
    use (seconds on a busy machine), and these tests are not about timeouts."""
    kwargs.setdefault("timeout", 30.0)
    return SnsSmsSender(
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id=AWS_KEY_ID,
        aws_secret_access_key=AWS_SECRET,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_publish_sends_a_transactional_sms(sns_standin: SnsStandIn) -> None:
    sender = make_sender(sns_standin.url, sender_id="Clinic")
    receipt = await sender.send(PHONE, BODY)

    assert receipt.provider == "sns" and len(receipt.message_id) == 36
    [request] = sns_standin.requests
    assert request.form["Action"] == "Publish"
    assert request.form["PhoneNumber"] == PHONE
    assert request.form["Message"] == BODY
    assert request.headers["Authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={AWS_KEY_ID}/")
    assert SnsStandIn.attributes(request) == {
        "AWS.SNS.SMS.SMSType": "Transactional",
        "AWS.SNS.SMS.SenderID": "Clinic",
    }


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (400, "InvalidParameter", False),
        (400, "ParameterValueInvalid", False),
        (400, "Throttling", True),
        (400, "Throttled", True),
        (500, "InternalError", True),
        (503, "ServiceUnavailable", True),
        (403, "AuthorizationError", True),
        (403, "InvalidClientTokenId", True),
    ],
)
async def test_sns_errors_are_mapped(
    sns_standin: SnsStandIn, status: int, code: str, retryable: bool
) -> None:
    sns_standin.fail(Reply(status, code, "Invalid parameter: PhoneNumber Reason: {to} is bad"))
    with pytest.raises(SmsDeliveryError) as caught:
        await make_sender(sns_standin.url).send(PHONE, BODY)
    err = caught.value
    assert (err.provider, err.code, err.retryable) == ("sns", code, retryable)
    assert PHONE not in str(err) and "ending in 0123" in str(err)
    assert len(sns_standin.requests) == 1, "botocore retried on its own; failover decides retries"


@pytest.mark.parametrize(
    ("status", "code", "retryable", "misconfigured"),
    [
        (400, "InvalidParameter", False, False),
        (400, "ParameterValueInvalid", False, False),
        (400, "Throttling", True, False),
        (500, "InternalError", True, False),
        (503, None, True, False),
        (403, "AuthorizationError", True, True),
        (400, "SomethingNew", True, False),
    ],
)
def test_verdict_table(status: int, code: str | None, retryable: bool, misconfigured: bool) -> None:
    verdict = sns_error_verdict(status, code)
    assert (verdict.retryable, verdict.misconfigured) == (retryable, misconfigured)


def test_missing_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # makes `import boto3` raise ImportError
    with pytest.raises(RuntimeError, match=r"needs the 'aws' extra: uv sync --extra aws"):
        SnsSmsSender(region_name="us-east-1")
