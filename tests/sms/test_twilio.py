"""TwilioSmsSender: what is Twilio's own (request shape, its error codes, one reused session).

What every sender must do is in test_contract.py; here, the real twilio SDK (async client)
against the local Twilio stand-in, for what only Twilio does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.constants import BODY, PHONE
from tests.support.sns_standin import AWS_KEY_ID, AWS_SECRET, SnsStandIn
from tests.support.standin_server import Reply
from tests.support.twilio_standin import TWILIO_SID, TWILIO_TOKEN, TwilioStandIn, twilio_error
from verification.sms.base import SmsDeliveryError
from verification.sms.failover import FailoverSmsSender
from verification.sms.sns import SnsSmsSender
from verification.sms.twilio import TwilioSmsSender, twilio_error_verdict

FROM = "+15005550006"


@pytest.fixture
async def sender(twilio_standin: TwilioStandIn) -> AsyncIterator[TwilioSmsSender]:
    sender = TwilioSmsSender(
        TWILIO_SID, TWILIO_TOKEN, FROM, base_url=twilio_standin.url, timeout=0.5
    )
    yield sender
    await sender.aclose()


async def test_send_posts_the_message_and_returns_twilios_sid(
    sender: TwilioSmsSender, twilio_standin: TwilioStandIn
) -> None:
    receipt = await sender.send(PHONE, BODY)

    assert receipt.provider == "twilio"
    assert receipt.message_id.startswith("SM") and len(receipt.message_id) == 34
    [request] = twilio_standin.requests
    assert request.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    assert request.form == {"To": PHONE, "From": FROM, "Body": BODY}


async def test_the_form_reaches_twilio_exactly_as_written(
    sender: TwilioSmsSender, twilio_standin: TwilioStandIn
) -> None:
    """Our HTTP client url-encodes the SDK's form itself (no aiohttp FormData per send)."""
    body = "Clínica Bayview: su código es 402991 & vence en 5 minutos = +1; ¿dudas? 😀"
    await sender.send(PHONE, body)
    [request] = twilio_standin.requests
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.form == {"To": PHONE, "From": FROM, "Body": body}


async def test_messaging_service_and_validity_period(twilio_standin: TwilioStandIn) -> None:
    sender = TwilioSmsSender(
        TWILIO_SID,
        TWILIO_TOKEN,
        None,
        base_url=twilio_standin.url,
        messaging_service_sid="MG" + "1" * 32,
        validity_seconds=300,
    )
    try:
        await sender.send(PHONE, BODY)
    finally:
        await sender.aclose()
    form = twilio_standin.requests[0].form
    assert form["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in form
    assert form["ValidityPeriod"] == "300"


async def test_one_connection_is_reused_across_sends(
    sender: TwilioSmsSender, twilio_standin: TwilioStandIn
) -> None:
    for _ in range(3):
        await sender.send(PHONE, BODY)
    ports = {r.peer_port for r in twilio_standin.requests}
    assert len(ports) == 1, "each send opened a new connection: the session is not reused"


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        (21211, False),
        (21408, False),
        (21610, False),
        (21614, False),
        (20429, True),
        (30003, True),
        (30004, True),
        (30005, True),
        (30006, True),
        (30007, True),
        (30008, True),
    ],
)
async def test_twilio_error_codes_are_mapped(
    sender: TwilioSmsSender, twilio_standin: TwilioStandIn, code: int, retryable: bool
) -> None:
    twilio_standin.fail(twilio_error(code))
    with pytest.raises(SmsDeliveryError) as caught:
        await sender.send(PHONE, BODY)
    err = caught.value
    assert (err.provider, err.code, err.retryable) == ("twilio", code, retryable)
    assert err.reason
    assert PHONE not in str(err) and "ending in 0123" in str(err)
    assert err.__cause__ is None and err.__suppress_context__  # Twilio's text quotes the number


async def test_opted_out_reason_is_caller_safe(
    sender: TwilioSmsSender, twilio_standin: TwilioStandIn
) -> None:
    twilio_standin.fail(twilio_error(21610))
    with pytest.raises(SmsDeliveryError) as caught:
        await sender.send(PHONE, BODY)
    assert caught.value.reason == "That number has opted out of text messages from us."


async def test_http_429_without_a_twilio_code_is_retryable(
    sender: TwilioSmsSender, twilio_standin: TwilioStandIn
) -> None:
    twilio_standin.fail(Reply(429, raw="slow down"))
    with pytest.raises(SmsDeliveryError) as caught:
        await sender.send(PHONE, BODY)
    assert caught.value.retryable and caught.value.code == 429


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_is_retryable(
    sender: TwilioSmsSender, twilio_standin: TwilioStandIn, status: int
) -> None:
    twilio_standin.fail(Reply(status, code=20500, message="Internal Server Error"))
    with pytest.raises(SmsDeliveryError) as caught:
        await sender.send(PHONE, BODY)
    assert caught.value.retryable


@pytest.mark.parametrize(
    ("status", "code", "retryable", "misconfigured"),
    [
        (400, 21211, False, False),
        (400, 21408, False, False),
        (400, 21610, False, False),
        (400, 21614, False, False),
        (429, 20429, True, False),
        (429, None, True, False),
        (400, 30005, True, False),
        (500, None, True, False),
        (503, 20503, True, False),
        (401, 20003, True, True),
        (401, None, True, True),
        (400, 21212, True, True),  # our 'From' number is invalid: our fault, not the caller's
        (400, 30034, True, True),  # our 10DLC number has no approved A2P campaign
        (400, 30032, True, True),  # our toll-free number is not verified
        (400, 99999, True, False),
    ],
)
def test_verdict_table(status: int, code: int | None, retryable: bool, misconfigured: bool) -> None:
    verdict = twilio_error_verdict(status, code)
    assert (verdict.retryable, verdict.misconfigured) == (retryable, misconfigured)
    if not retryable:
        assert verdict.reason


def test_constructor_refuses_missing_sender() -> None:
    with pytest.raises(ValueError, match="sender number or a messaging service"):
        TwilioSmsSender(TWILIO_SID, TWILIO_TOKEN, None)


@pytest.mark.parametrize(
    ("code", "fix"),
    [(30034, "A2P 10DLC registration"), (30032, "toll-free verification")],
)
async def test_an_unregistered_sender_is_ours_to_fix_and_another_provider_may_deliver(
    twilio_standin: TwilioStandIn,
    sns_standin: SnsStandIn,
    caplog: pytest.LogCaptureFixture,
    code: int,
    fix: str,
) -> None:
    """The carriers' registration errors (docs/operations.md, "Going live") are an ERROR naming
    what to register, and not the patient's problem: failover moves on."""
    twilio_standin.fail(twilio_error(code))
    twilio = TwilioSmsSender(TWILIO_SID, TWILIO_TOKEN, FROM, base_url=twilio_standin.url)
    sns = SnsSmsSender(
        region_name="us-east-1",
        endpoint_url=sns_standin.url,
        aws_access_key_id=AWS_KEY_ID,
        aws_secret_access_key=AWS_SECRET,
    )
    try:
        receipt = await FailoverSmsSender([twilio, sns]).send(PHONE, BODY)
    finally:
        await twilio.aclose()
    assert receipt.provider == "sns"
    [error] = [
        r for r in caplog.records if r.levelname == "ERROR" and r.name == "verification.sms.twilio"
    ]
    assert fix in error.getMessage() and error.sms_error_code == code  # type: ignore[attr-defined]
