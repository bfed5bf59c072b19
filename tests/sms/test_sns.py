"""SnsSmsSender: real boto3 against a local SNS Query-API stand-in (dummy credentials)."""

from __future__ import annotations

import sys
import time

import pytest

from tests.support.constants import BODY, PHONE
from tests.support.sns_standin import AWS_KEY_ID, AWS_SECRET, SnsStandIn
from tests.support.standin_server import Reply
from verification.sms.base import SmsDeliveryError
from verification.sms.sns import SnsSmsSender, sns_error_verdict


def make_sender(url: str, **kwargs: object) -> SnsSmsSender:
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


async def test_5xx_html_page_is_retryable(sns_standin: SnsStandIn) -> None:
    sns_standin.fail(Reply(502, raw="<html>Bad Gateway</html>"))
    with pytest.raises(SmsDeliveryError) as caught:
        await make_sender(sns_standin.url).send(PHONE, BODY)
    assert caught.value.retryable


async def test_authorization_error_logs_at_error(
    sns_standin: SnsStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    sns_standin.fail(Reply(403, "AuthorizationError", "not authorized to perform SNS:Publish"))
    with pytest.raises(SmsDeliveryError):
        await make_sender(sns_standin.url).send(PHONE, BODY)
    assert any(r.levelname == "ERROR" and r.name == "verification.sms.sns" for r in caplog.records)


async def test_slow_answer_times_out_as_retryable(sns_standin: SnsStandIn) -> None:
    sns_standin.delay = 3.0
    started = time.monotonic()
    with pytest.raises(SmsDeliveryError) as caught:
        await make_sender(sns_standin.url, timeout=0.3).send(PHONE, BODY)
    assert time.monotonic() - started < 2.5  # the stand-in would have taken 3 s
    assert caught.value.retryable and caught.value.code == "timeout"


async def test_refused_connection_is_retryable(refused_port: int) -> None:
    with pytest.raises(SmsDeliveryError) as caught:
        await make_sender(f"http://127.0.0.1:{refused_port}").send(PHONE, BODY)
    assert caught.value.retryable and caught.value.code == "network"
    assert "EndpointConnectionError" in str(caught.value)


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
