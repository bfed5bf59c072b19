"""The contract every SMS sender keeps, one suite run over Twilio, SNS, Vonage and the console.

What `SmsSender` promises a caller of `send`: a receipt naming the provider and its message
id when the provider took the message; `SmsDeliveryError` and nothing else when it did not,
final for a number no retry will reach, retryable for throttling, 5xx, a garbled answer, a
timeout, a refused connection or our own broken credentials (those logged at ERROR); never
the code, the text or the full number in a log record or an error; and closing (optional)
is safe at any time, a later send still works. Each provider is the real SDK against its
local stand-in; what differs between providers (error-code tables, sender IDs, validity)
stays in test_twilio.py, test_sns.py and test_vonage.py.
"""

from __future__ import annotations

import io
import logging
import traceback
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from tests.support.constants import BODY, CODE, PHONE, PHONE_DIGITS
from tests.support.sns_standin import AWS_KEY_ID, AWS_SECRET, SnsStandIn
from tests.support.standin_server import Reply, StandIn
from tests.support.twilio_standin import TWILIO_SID, TWILIO_TOKEN, TwilioStandIn, twilio_error
from tests.support.vonage_standin import VONAGE_KEY, VONAGE_SECRET, VonageStandIn
from verification.sms import (
    ConsoleSmsSender,
    SmsDeliveryError,
    SmsReceipt,
    SmsSender,
    SnsSmsSender,
    TwilioSmsSender,
    VonageSmsSender,
    close_sender,
)

REAL = ("twilio", "sns", "vonage")
SECRETS = (CODE, PHONE, PHONE_DIGITS, BODY, TWILIO_TOKEN, AWS_SECRET, VONAGE_SECRET)


@dataclass
class Provider:
    """One sender under the contract, and how to speak to its stand-in in its own terms."""

    name: str
    build: Callable[..., SmsSender]  # (address, timeout=..., secret=...) -> sender
    address: str
    standin: StandIn | None = None
    invalid_number: Reply | None = None
    throttled: Reply | None = None
    printed: io.StringIO = field(default_factory=io.StringIO)
    made: list[SmsSender] = field(default_factory=list)

    def sender(self, address: str | None = None, **kwargs: object) -> SmsSender:
        sender = self.build(self.address if address is None else address, **kwargs)
        self.made.append(sender)
        return sender

    def received(self) -> list[tuple[str, str]]:
        """(number, text) of every message the provider was handed."""
        if self.standin is None:
            return [(PHONE, BODY)] if BODY in self.printed.getvalue() else []
        keys = {"twilio": ("To", "Body"), "sns": ("PhoneNumber", "Message")}
        to, text = keys.get(self.name, ("to", "text"))
        return [
            ("+" + r.form[to].lstrip("+"), r.form[text])
            for r in self.standin.requests
            if to in r.form
        ]


def _twilio(address: str, timeout: float = 5.0, secret: str = TWILIO_TOKEN) -> SmsSender:
    return TwilioSmsSender(TWILIO_SID, secret, "+15005550006", base_url=address, timeout=timeout)


def _sns(address: str, timeout: float = 5.0, secret: str = AWS_SECRET) -> SmsSender:
    return SnsSmsSender(
        region_name="us-east-1",
        endpoint_url=address,
        aws_access_key_id=AWS_KEY_ID,
        aws_secret_access_key=secret,
        timeout=timeout,
    )


def _vonage(address: str, timeout: float = 5.0, secret: str = VONAGE_SECRET) -> SmsSender:
    return VonageSmsSender(VONAGE_KEY, secret, "Clinic", rest_host=address, timeout=timeout)


@asynccontextmanager
async def running(
    name: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Provider]:
    """`name`'s sender kit with its stand-in serving; every sender made is closed after."""
    standin: StandIn | None = None
    if name == "twilio":
        standin = TwilioStandIn()
        made = Provider(name, _twilio, "", standin, twilio_error(21211), twilio_error(20429))
    elif name == "sns":
        standin = SnsStandIn()
        invalid = Reply(400, "InvalidParameter", "Invalid parameter: PhoneNumber Reason: {to}")
        throttled = Reply(400, "Throttling", "Rate exceeded")
        made = Provider(name, _sns, "", standin, invalid, throttled)
    elif name == "vonage":
        context, cert_path = request.getfixturevalue("tls")
        # The Vonage SDK speaks only https; requests trusts the stand-in's certificate via this.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert_path))
        standin = VonageStandIn(context)
        invalid, throttled = Reply(200, "3", "Invalid to address {to}"), Reply(200, "1", "Slow")
        made = Provider(name, _vonage, "", standin, invalid, throttled)
    else:
        made = Provider(name, lambda address, **_: ConsoleSmsSender(made.printed), "")
    if standin is not None:
        await standin.start()
        made.address = standin.host if name == "vonage" else standin.url
    try:
        yield made
    finally:
        for sender in made.made:
            await close_sender(sender)
        if standin is not None:
            await standin.stop()


@pytest.fixture(params=[*REAL, "console"])
async def provider(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Provider]:
    async with running(request.param, request, monkeypatch) as made:
        yield made


@pytest.fixture(params=REAL)
async def real(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Provider]:
    """Only the providers that can fail (the console cannot)."""
    async with running(request.param, request, monkeypatch) as made:
        yield made


def _texts(err: SmsDeliveryError) -> list[str]:
    return [str(err), repr(err), err.reason or "", "".join(traceback.format_exception(err))]


def assert_clean(texts: list[str]) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked into: {text[:300]!r}"


async def failure(sender: SmsSender) -> SmsDeliveryError:
    with pytest.raises(SmsDeliveryError) as caught:
        await sender.send(PHONE, BODY)
    assert "ending in 0123" in str(caught.value)
    assert_clean(_texts(caught.value))
    return caught.value


# --- success ---------------------------------------------------------------------------------


async def test_a_send_returns_a_receipt_and_hands_the_provider_the_number_and_text(
    provider: Provider,
) -> None:
    receipt = await provider.sender().send(PHONE, BODY)
    assert isinstance(receipt, SmsReceipt)
    assert receipt.provider == provider.name and receipt.message_id
    assert provider.received() == [(PHONE, BODY)]


async def test_closing_is_optional_safe_twice_and_a_later_send_still_works(
    provider: Provider,
) -> None:
    sender = provider.sender()
    await close_sender(sender)  # before any send
    await sender.send(PHONE, BODY)
    await close_sender(sender)
    await close_sender(sender)
    assert (await sender.send(PHONE, BODY)).provider == provider.name


# --- failures: SmsDeliveryError only, with the right verdict ----------------------------------


async def test_a_number_no_retry_will_reach_is_final_with_a_caller_safe_reason(
    real: Provider,
) -> None:
    assert real.standin is not None and real.invalid_number is not None
    real.standin.fail(real.invalid_number)
    err = await failure(real.sender())
    assert not err.retryable and err.provider == real.name
    assert err.reason and "number" in err.reason


async def test_throttling_is_retryable(real: Provider) -> None:
    assert real.standin is not None and real.throttled is not None
    real.standin.fail(real.throttled)
    assert (await failure(real.sender())).retryable


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_server_error_page_is_retryable(real: Provider, status: int) -> None:
    assert real.standin is not None
    real.standin.fail(Reply(status, raw="<html><body>Service Unavailable</body></html>"))
    assert (await failure(real.sender())).retryable


async def test_a_garbled_answer_is_a_retryable_delivery_error(real: Provider) -> None:
    assert real.standin is not None
    real.standin.fail(Reply(200, raw="<<< not what the API answers >>>"))
    assert (await failure(real.sender())).retryable


async def test_a_slow_provider_times_out_as_retryable(real: Provider) -> None:
    assert real.standin is not None
    real.standin.delay = 3.0
    err = await failure(real.sender(timeout=0.3))
    assert err.retryable and err.code == "timeout"


async def test_a_refused_connection_is_retryable(real: Provider, refused_port: int) -> None:
    scheme = "" if real.name == "vonage" else "http://"  # Vonage takes a host, always https
    err = await failure(real.sender(f"{scheme}127.0.0.1:{refused_port}"))
    assert err.retryable and err.code == "network"


async def test_our_own_bad_credentials_are_retryable_and_logged_at_error(
    real: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    assert real.standin is not None
    if real.name == "sns":  # the stand-in does not check SigV4 signatures: AWS's answer
        real.standin.fail(Reply(403, "InvalidClientTokenId", "The security token is invalid"))
    assert (await failure(real.sender(secret="wrong-secret"))).retryable
    assert any(
        r.levelname == "ERROR" and r.name == f"verification.sms.{real.name}" for r in caplog.records
    )


# --- nothing leaks -------------------------------------------------------------------------


async def test_logs_never_hold_the_code_the_text_or_the_number(
    provider: Provider, all_logs: logging.Handler
) -> None:
    sender = provider.sender()
    await sender.send(PHONE, BODY)
    if provider.standin is not None:
        for reply in (provider.invalid_number, provider.throttled, Reply(503, raw="down")):
            assert reply is not None
            provider.standin.fail(reply, times=1)
            await failure(sender)
        await sender.send(PHONE, BODY)
    assert all(text == BODY for _, text in provider.received())  # the provider got it all
    records = all_logs.texts()  # type: ignore[attr-defined]
    assert provider.standin is None or records, "the log capture saw nothing"
    assert_clean(records)
