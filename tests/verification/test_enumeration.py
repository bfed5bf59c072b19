"""No enumeration through delivery (issue 9 items 5 and 6), on SQLite and a real Redis.

A number on file and one not on file must get the same outcome, sentence, cooldown and
limit behaviour whatever the SMS provider does: accept, refuse the number (landline), time
out, fail (HTTP 500), or drop the connection after the request was written. The real Twilio
SDK talks to a local stand-in (or to a server that hangs up); the provider's trouble may
cost a send that may have left, and it costs the same for everyone.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from tests.support.constants import NOT_ON_FILE, ON_FILE, PEPPER
from tests.support.misbehaving_senders import DroppingServer
from tests.support.sms import StaticDirectory
from tests.support.standin_server import Reply
from tests.support.twilio_standin import TWILIO_SID, TWILIO_TOKEN, TwilioStandIn, twilio_error
from verification import (
    FailoverSmsSender,
    OtpPolicy,
    OtpService,
    OtpStore,
    RequestOutcome,
    TwilioSmsSender,
    VerifyOutcome,
)
from verification.sms import close_sender

# one caller's cooldown and send allowance, and a phone ceiling of two sends
POLICY = OtpPolicy(max_attempts=3, max_sends=1, max_phone_sends=2, resend_cooldown_seconds=30)
MODES = ["accepts", "refuses_landline", "http_500", "times_out", "drops_connection"]


@dataclass(frozen=True)
class Heard:
    """What a caller can observe about one answer (the masked digits made equal)."""

    status: str
    message: str
    retry_after: int | None
    code_pending: bool | None = None
    attempts_left: int | None = None


def heard(outcome: RequestOutcome | VerifyOutcome) -> Heard:
    message = outcome.message.replace("0199", "0123")
    if isinstance(outcome, RequestOutcome):
        return Heard(outcome.status, message, outcome.retry_after_seconds, outcome.code_pending)
    return Heard(outcome.status, message, outcome.retry_after_seconds, None, outcome.attempts_left)


@pytest.fixture
async def provider_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    mode = request.param
    if mode == "drops_connection":
        async with DroppingServer() as dropping:
            yield dropping.url
        assert dropping.requests >= 1, "the request never reached the server"
        return
    async with TwilioStandIn() as standin:
        if mode == "refuses_landline":
            standin.fail(twilio_error(21614))
        elif mode == "http_500":
            standin.fail(Reply(500, code=20500, message="Internal Server Error"))
        elif mode == "times_out":
            standin.delay = 30.0
        yield standin.url


def service_for(store: OtpStore, url: str) -> OtpService:
    twilio = TwilioSmsSender(TWILIO_SID, TWILIO_TOKEN, "+15005550006", base_url=url, timeout=0.3)
    sender = FailoverSmsSender([twilio], attempt_timeout=0.3, deadline=0.5)
    return OtpService(store, sender, StaticDirectory({ON_FILE}), POLICY, pepper=PEPPER)


async def script(service: OtpService, phone: str) -> list[Heard]:
    """Everything a caller can try with one number, as three callers."""
    answers: list[Heard] = []
    first = await service.request_code(phone, session_id=f"a-{phone}", caller_phone="+16505550001")
    answers.append(heard(first))
    await service.drain()  # the send has ended, however it ended
    again = await service.request_code(phone, session_id=f"a-{phone}", caller_phone="+16505550001")
    answers.append(heard(again))  # cooldown: the send that may have left counts
    other = await service.request_code(phone, session_id=f"b-{phone}", caller_phone="+16505550002")
    answers.append(heard(other))
    await service.drain()
    third = await service.request_code(phone, session_id=f"c-{phone}", caller_phone="+16505550003")
    answers.append(heard(third))  # rate_limited: the phone's ceiling of two sends is used
    for _ in range(3):
        guess = await service.verify_code(
            phone, "000000", session_id=f"a-{phone}", caller_phone="+16505550001"
        )
        answers.append(heard(guess))
    return answers


@pytest.mark.parametrize("provider_url", MODES, indirect=True)
async def test_on_file_and_not_on_file_are_indistinguishable_whatever_the_provider_does(
    store: OtpStore, provider_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="verification.audit")
    service = service_for(store, provider_url)
    try:
        real = await script(service, ON_FILE)
        decoy = await script(service, NOT_ON_FILE)
    finally:
        await service.drain()
        await close_sender(service.sender)

    if any(h.status == "verified" for h in real):
        pytest.skip("drew 000000 as the real code")
    assert [h.status for h in real] == [
        "sent", "cooldown", "sent", "rate_limited", "wrong_code", "wrong_code", "wrong_code",
    ]  # fmt: skip
    # retry_after is whole seconds counted on the store's clock: allow one second of drift
    for mine, theirs in zip(real, decoy, strict=True):
        assert mine.retry_after is None or theirs.retry_after is not None
        if mine.retry_after is not None and theirs.retry_after is not None:
            assert abs(mine.retry_after - theirs.retry_after) <= 1
    strip = [Heard(h.status, h.message, None, h.code_pending, h.attempts_left) for h in real]
    assert strip == [
        Heard(h.status, h.message, None, h.code_pending, h.attempts_left) for h in decoy
    ]
    events = [getattr(r, "event", "") for r in caplog.records]
    sent_or_failed = [e for e in events if e in ("otp.sent", "otp.delivery_failed")]
    assert len(sent_or_failed) == 2  # the two real sends, each audited however it ended
