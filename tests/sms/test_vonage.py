"""VonageSmsSender: what is Vonage's own (ttl, per-message statuses, no SDK retries).

What every sender must do is in test_contract.py; here, the real vonage v4 SDK against the
local /sms/json stand-in.

The SDK builds `https://{rest_host}` itself (no plain-http option), so the stand-in serves
TLS with a throwaway certificate that requests trusts through REQUESTS_CA_BUNDLE.
"""

from __future__ import annotations

import sys

import pytest

from tests.support.constants import BODY, PHONE
from tests.support.standin_server import Reply
from tests.support.vonage_standin import VONAGE_KEY, VONAGE_SECRET, VonageStandIn
from verification.sms.base import SmsDeliveryError
from verification.sms.vonage import VonageSmsSender, vonage_error_verdict


def make_sender(host: str, **kwargs: object) -> VonageSmsSender:
    return VonageSmsSender(VONAGE_KEY, VONAGE_SECRET, "Clinic", rest_host=host, **kwargs)  # type: ignore[arg-type]


async def test_send_posts_the_message_and_returns_the_message_id(
    vonage_standin: VonageStandIn,
) -> None:
    receipt = await make_sender(vonage_standin.host, validity_seconds=300).send(PHONE, BODY)

    assert receipt.provider == "vonage" and len(receipt.message_id) == 16
    [request] = vonage_standin.requests
    assert request.path == "/sms/json"
    assert request.form == {
        "to": PHONE.lstrip("+"),
        "from": "Clinic",
        "text": BODY,
        "ttl": "300000",
    }


@pytest.mark.parametrize(
    ("status", "retryable"),
    [("1", True), ("2", False), ("3", False), ("5", True), ("6", False), ("29", True)],
)
async def test_vonage_statuses_are_mapped(
    vonage_standin: VonageStandIn, status: str, retryable: bool
) -> None:
    vonage_standin.fail(Reply(200, status, "Invalid to address {to}"))
    with pytest.raises(SmsDeliveryError) as caught:
        await make_sender(vonage_standin.host).send(PHONE, BODY)
    err = caught.value
    assert (err.provider, err.code, err.retryable) == ("vonage", status, retryable)
    assert PHONE.lstrip("+") not in str(err) and "ending in 0123" in str(err)


@pytest.mark.parametrize(("http_status", "retryable"), [(429, True), (500, True), (401, True)])
async def test_http_errors_are_mapped(
    vonage_standin: VonageStandIn, http_status: int, retryable: bool
) -> None:
    vonage_standin.fail(Reply(http_status, message="nope"))
    with pytest.raises(SmsDeliveryError) as caught:
        await make_sender(vonage_standin.host).send(PHONE, BODY)
    assert caught.value.retryable == retryable and caught.value.code == http_status
    assert len(vonage_standin.requests) == 1, "the SDK retried on its own"


@pytest.mark.parametrize(
    ("status", "http_status", "retryable", "misconfigured"),
    [
        ("1", None, True, False),
        ("2", None, False, False),
        ("3", None, False, False),
        ("4", None, True, True),
        ("5", None, True, False),
        ("6", None, False, False),
        ("9", None, True, True),
        ("29", None, True, True),
        ("99", None, True, False),
        (None, 401, True, True),
        (None, 503, True, False),
    ],
)
def test_verdict_table(
    status: str | None, http_status: int | None, retryable: bool, misconfigured: bool
) -> None:
    verdict = vonage_error_verdict(status, http_status)
    assert (verdict.retryable, verdict.misconfigured) == (retryable, misconfigured)


def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vonage", None)
    with pytest.raises(RuntimeError, match=r"needs the 'vonage' extra: uv sync --extra vonage"):
        VonageSmsSender("k", "s", "Clinic")
