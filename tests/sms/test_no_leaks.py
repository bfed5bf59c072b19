"""Security rule 7: the code and the full number travel only in the request to the provider.

Every logger is captured at DEBUG (the SDKs' own included: twilio's HTTP client loggers,
botocore, urllib3, vonage), across successes and every kind of failure, and so are the
errors we raise with their tracebacks. None may contain the code, the message body or the
full number; the stand-in must have received them, so the test cannot pass vacuously.
Beyond the contract suite's check, each provider's sweep runs its own error formats and
proves its SDK's own logging (request lines, botocore's payloads) was seen and redacted.
"""

from __future__ import annotations

import logging
import traceback

import pytest

from tests.support.constants import BODY, CODE, PHONE, PHONE_DIGITS
from tests.support.sns_standin import AWS_KEY_ID, AWS_SECRET, SnsStandIn
from tests.support.standin_server import Reply, StandIn
from tests.support.twilio_standin import TWILIO_SID, TWILIO_TOKEN, TwilioStandIn, twilio_error
from tests.support.vonage_standin import VONAGE_KEY, VONAGE_SECRET, VonageStandIn
from verification.sms.base import SmsDeliveryError, SmsSender
from verification.sms.failover import FailoverSmsSender
from verification.sms.sns import SnsSmsSender
from verification.sms.twilio import TwilioSmsSender
from verification.sms.vonage import VonageSmsSender

SECRETS = (CODE, PHONE, PHONE_DIGITS, BODY)
CREDENTIALS = (TWILIO_TOKEN, AWS_SECRET, VONAGE_SECRET)


def assert_clean(texts: list[str]) -> None:
    for text in texts:
        for secret in SECRETS + CREDENTIALS:
            assert secret not in text, f"{secret!r} leaked into: {text[:300]!r}"


def error_texts(err: BaseException) -> list[str]:
    return [
        str(err),
        repr(err),
        getattr(err, "reason", "") or "",
        "".join(traceback.format_exception(err)),
    ]


async def exercise(sender: SmsSender, standin: StandIn, failures: list[Reply]) -> list[str]:
    """One success, then each failure; returns the text of every error raised."""
    texts: list[str] = []
    await sender.send(PHONE, BODY)
    for reply in failures:
        standin.reset()
        standin.fail(reply, times=1)
        with pytest.raises(SmsDeliveryError) as caught:
            await sender.send(PHONE, BODY)
        texts += error_texts(caught.value)
    return texts


def received_the_body(standin: StandIn) -> bool:
    return all(CODE in r.raw or CODE in str(r.form) for r in standin.requests)


async def test_twilio_leaks_nothing(
    twilio_standin: TwilioStandIn, all_logs: logging.Handler
) -> None:
    sender = TwilioSmsSender(TWILIO_SID, TWILIO_TOKEN, "+15005550006", base_url=twilio_standin.url)
    try:
        texts = await exercise(
            sender,
            twilio_standin,
            [twilio_error(c) for c in (21211, 21408, 21610, 21614, 20429, 30003, 20003)]
            + [Reply(500, 20500, "Internal error for {to}"), Reply(503, raw="down")],
        )
    finally:
        await sender.aclose()
    assert received_the_body(twilio_standin) and len(twilio_standin.requests) == 10
    records = all_logs.texts()  # type: ignore[attr-defined]
    assert any(r.startswith("twilio request POST") for r in records), "capture is broken"
    # The SDK's own HTTP logger (URL and headers at INFO) is replaced by our one DEBUG line.
    names = {r.name for r in all_logs.records}  # type: ignore[attr-defined]
    assert not any(n.startswith("twilio") for n in names), names
    assert_clean(records + texts)


async def test_sns_leaks_nothing(sns_standin: SnsStandIn, all_logs: logging.Handler) -> None:
    sender = SnsSmsSender(
        region_name="us-east-1",
        endpoint_url=sns_standin.url,
        aws_access_key_id=AWS_KEY_ID,
        aws_secret_access_key=AWS_SECRET,
    )
    texts = await exercise(
        sender,
        sns_standin,
        [
            Reply(400, "InvalidParameter", "Invalid parameter: PhoneNumber Reason: {to} invalid"),
            Reply(400, "Throttling", "Rate exceeded"),
            Reply(500, "InternalError", "oops"),
            Reply(403, "AuthorizationError", "no"),
        ],
    )
    assert received_the_body(sns_standin)
    records = all_logs.texts()  # type: ignore[attr-defined]
    # botocore really did log the request at DEBUG; our filter cut the payload out.
    assert any("with params: [redacted]" in r for r in records)
    assert_clean(records + texts)


async def test_vonage_leaks_nothing(
    vonage_standin: VonageStandIn, all_logs: logging.Handler
) -> None:
    sender = VonageSmsSender(VONAGE_KEY, VONAGE_SECRET, "Clinic", rest_host=vonage_standin.host)
    texts = await exercise(
        sender,
        vonage_standin,
        [
            Reply(200, "3", "Invalid to number {to}"),
            Reply(200, "1", "Throttled"),
            Reply(500, message="oops"),
            Reply(429, message="slow"),
        ],
    )
    texts += await exercise(sender, vonage_standin, [])  # a second success: headers re-logged
    assert received_the_body(vonage_standin)
    records = all_logs.texts()  # type: ignore[attr-defined]
    assert any(r.startswith("POST request to https://") for r in records)
    assert_clean(records + texts)


async def test_failover_leaks_nothing_when_every_provider_fails(
    twilio_standin: TwilioStandIn, sns_standin: SnsStandIn, all_logs: logging.Handler
) -> None:
    twilio = TwilioSmsSender(TWILIO_SID, TWILIO_TOKEN, "+15005550006", base_url=twilio_standin.url)
    sns = SnsSmsSender(
        region_name="us-east-1",
        endpoint_url=sns_standin.url,
        aws_access_key_id=AWS_KEY_ID,
        aws_secret_access_key=AWS_SECRET,
    )
    twilio_standin.fail(Reply(500, 20500, "Internal error for {to}"))
    sns_standin.fail(Reply(500, "InternalError", "Internal error for {to}"))
    try:
        with pytest.raises(SmsDeliveryError) as caught:
            await FailoverSmsSender([twilio, sns]).send(PHONE, BODY)
    finally:
        await twilio.aclose()
    assert received_the_body(twilio_standin) and received_the_body(sns_standin)
    assert_clean(all_logs.texts() + error_texts(caught.value))  # type: ignore[attr-defined]
