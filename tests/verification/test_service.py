"""OtpService behaviour, run once on SQLite and once on a real Redis (see conftest)."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.constants import NOT_ON_FILE, ON_FILE, PEPPER
from tests.support.misbehaving_senders import SlowSender
from tests.support.services import ServiceFactory
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpPolicy, OtpService, OtpStore, SmsDeliveryError, SmsReceipt

FAST = OtpPolicy(resend_cooldown_seconds=0)


def wrong(code: str) -> str:
    """A well-formed code that is certainly not `code`."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


# -- request_code -------------------------------------------------------------------------


async def test_sends_a_code_to_a_number_on_file(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    service = make_service()
    outcome = await service.request_code("(415) 555-0123", session_id="call-1")
    await service.drain()

    assert outcome.status == "sent"
    assert outcome.masked_phone == "ending in 0123"
    assert "ending in 0123" in outcome.message
    assert [to for to, _ in sender.sent] == [ON_FILE]
    body = sender.sent[0][1]
    assert "Bayview Clinic" in body and "5 minutes" in body and "share" in body
    assert sender.last_code() not in outcome.message


async def test_invalid_phone_is_refused_with_a_sentence(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    for raw in ["12", "not a number", "+1 415 555", ""]:
        outcome = await make_service().request_code(raw, session_id="call-1")
        assert outcome.status == "invalid_phone"
        assert "phone number" in outcome.message
    assert sender.sent == []


async def test_not_on_file_sounds_the_same_and_sends_nothing(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    service = make_service()
    real = await service.request_code("415 555 0123", session_id="call-1")
    await service.drain()
    decoy = await service.request_code("415 555 0199", session_id="call-2")
    await service.drain()

    assert [to for to, _ in sender.sent] == [ON_FILE]
    assert decoy.status == real.status == "sent"
    assert decoy.message.replace("0199", "0123") == real.message
    assert decoy.masked_phone == "ending in 0199"


async def test_decoy_challenge_answers_guesses_like_a_real_one(
    make_service: ServiceFactory,
) -> None:
    service = make_service(OtpPolicy(max_attempts=3))
    await service.request_code(ON_FILE, session_id="real")
    await service.drain()
    await service.request_code(NOT_ON_FILE, session_id="decoy")
    await service.drain()

    for expected_left in (2, 1, 0):
        real = await service.verify_code(ON_FILE, "000000", session_id="real")
        decoy = await service.verify_code(NOT_ON_FILE, "000000", session_id="decoy")
        # "000000" could be the real code once in a million runs; the decoy never verifies
        if real.status == "verified":
            pytest.skip("drew 000000 as the real code")
        assert (
            (real.status, real.attempts_left, real.message)
            == (
                decoy.status,
                decoy.attempts_left,
                decoy.message,
            )
            == ("wrong_code", expected_left, real.message)
        )
    after_real = await service.verify_code(ON_FILE, "000000", session_id="real")
    after_decoy = await service.verify_code(NOT_ON_FILE, "000000", session_id="decoy")
    assert after_real.status == after_decoy.status == "no_code"


async def test_cooldown_between_sends(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    service = make_service(OtpPolicy(resend_cooldown_seconds=30))
    assert (await service.request_code(ON_FILE, session_id="c")).status == "sent"
    await service.drain()

    again = await service.request_code(ON_FILE, session_id="c")
    await service.drain()

    assert again.status == "cooldown"
    assert again.retry_after_seconds is not None and 25 <= again.retry_after_seconds <= 30
    assert len(sender.sent) == 1


async def test_cooldown_ends(make_service: ServiceFactory, sender: RecordingSmsSender) -> None:
    service = make_service(OtpPolicy(resend_cooldown_seconds=1))
    await service.request_code(ON_FILE, session_id="c")
    await service.drain()
    await asyncio.sleep(1.1)
    assert (await service.request_code(ON_FILE, session_id="c")).status == "sent"
    await service.drain()
    assert len(sender.sent) == 2


async def test_send_window_caps_codes_per_phone(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    service = make_service(
        OtpPolicy(max_phone_sends=3, send_window_seconds=2, resend_cooldown_seconds=0)
    )
    statuses = [(await service.request_code(ON_FILE, session_id="c")).status for _ in range(4)]
    await service.drain()

    assert statuses == ["sent", "sent", "sent", "rate_limited"]
    assert len(sender.sent) == 3
    await asyncio.sleep(2.1)
    assert (await service.request_code(ON_FILE, session_id="c")).status == "sent"
    await service.drain()


async def test_send_limits_apply_to_numbers_not_on_file_too(make_service: ServiceFactory) -> None:
    service = make_service(OtpPolicy(max_phone_sends=2, resend_cooldown_seconds=0))
    real = [(await service.request_code(ON_FILE, session_id="c")).status for _ in range(3)]
    await service.drain()
    decoy = [(await service.request_code(NOT_ON_FILE, session_id="c")).status for _ in range(3)]
    await service.drain()
    assert real == decoy == ["sent", "sent", "rate_limited"]


async def test_resend_issues_a_new_code_and_burns_the_old(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    service = make_service(FAST)
    await service.request_code(ON_FILE, session_id="c")
    await service.drain()
    first = sender.last_code()
    await service.request_code(ON_FILE, session_id="c")
    await service.drain()
    second = sender.last_code()

    if first != second:
        assert (await service.verify_code(ON_FILE, first, session_id="c")).status == "wrong_code"
    assert (await service.verify_code(ON_FILE, second, session_id="c")).verified


# -- verify_code --------------------------------------------------------------------------


async def test_right_code_verifies_once(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    service = make_service()
    await service.request_code(ON_FILE, session_id="c")
    await service.drain()
    code = sender.last_code()

    first = await service.verify_code("+1 (415) 555-0123", code, session_id="c")
    replay = await service.verify_code(ON_FILE, code, session_id="c")

    assert first.status == "verified" and first.verified
    assert replay.status == "no_code" and not replay.verified


async def test_spoken_code_verifies(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    service = make_service()
    await service.request_code(ON_FILE, session_id="c")
    await service.drain()
    words = " ".join(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"][int(d)]
        for d in sender.last_code()
    )
    assert (await service.verify_code(ON_FILE, f"it's {words}", session_id="c")).verified


async def test_wrong_guesses_count_down_then_burn_the_code(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    service = make_service(OtpPolicy(max_attempts=3))
    await service.request_code(ON_FILE, session_id="c")
    await service.drain()
    code = sender.last_code()

    results = [await service.verify_code(ON_FILE, wrong(code), session_id="c") for _ in range(3)]
    assert [(r.status, r.attempts_left) for r in results] == [
        ("wrong_code", 2),
        ("wrong_code", 1),
        ("wrong_code", 0),
    ]
    assert "can't be used" in results[-1].message
    burned = await service.verify_code(ON_FILE, code, session_id="c")
    assert burned.status == "no_code" and not burned.verified


async def test_code_expires(make_service: ServiceFactory, sender: RecordingSmsSender) -> None:
    service = make_service(OtpPolicy(ttl_seconds=1))
    await service.request_code(ON_FILE, session_id="c")
    await service.drain()
    code = sender.last_code()
    await asyncio.sleep(1.2)

    outcome = await service.verify_code(ON_FILE, code, session_id="c")

    assert outcome.status == "expired" and not outcome.verified
    assert (await service.verify_code(ON_FILE, code, session_id="c")).status == "no_code"


async def test_code_is_bound_to_the_call_that_asked(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    service = make_service(OtpPolicy(max_attempts=3))
    await service.request_code(ON_FILE, session_id="call-A")
    await service.drain()
    code = sender.last_code()

    stolen = [await service.verify_code(ON_FILE, code, session_id="call-B") for _ in range(5)]

    assert {o.status for o in stolen} == {"no_code"}
    # guesses from another call neither count against this call's code nor burn it
    assert (await service.verify_code(ON_FILE, code, session_id="call-A")).verified


async def test_no_code_requested(make_service: ServiceFactory) -> None:
    outcome = await make_service().verify_code(ON_FILE, "123456", session_id="c")
    assert outcome.status == "no_code" and "new one" in outcome.message


@pytest.mark.parametrize(
    "guess", ["12345", "1234567", "abcdef", "", "\uff11\uff12\uff13\uff14\uff15\uff16", "12 34 5"]
)
async def test_malformed_guess_is_not_counted(
    make_service: ServiceFactory, sender: RecordingSmsSender, guess: str
) -> None:
    service = make_service(OtpPolicy(max_attempts=1))
    await service.request_code(ON_FILE, session_id="c")
    await service.drain()

    outcome = await service.verify_code(ON_FILE, guess, session_id="c")

    assert outcome.status == "malformed" and "6-digit" in outcome.message
    assert (await service.verify_code(ON_FILE, sender.last_code(), session_id="c")).verified


async def test_failures_lock_the_phone_and_resends_do_not_reset_them(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    service = make_service(
        OtpPolicy(max_attempts=3, max_phone_failures=5, max_sends=10, resend_cooldown_seconds=0)
    )
    await service.request_code(ON_FILE, session_id="c")
    await service.drain()
    statuses = [
        (await service.verify_code(ON_FILE, wrong(sender.last_code()), session_id="c")).status
        for _ in range(3)
    ]
    assert statuses == ["wrong_code"] * 3

    await service.request_code(ON_FILE, session_id="c")  # a resend: new code, same failure count
    await service.drain()
    code = sender.last_code()
    assert (await service.verify_code(ON_FILE, wrong(code), session_id="c")).status == "wrong_code"
    locking = await service.verify_code(ON_FILE, wrong(code), session_id="c")
    assert locking.status == "locked" and "staff" in locking.message
    assert locking.retry_after_seconds is not None and locking.retry_after_seconds > 80_000

    # locked: the right code no longer helps, and no new code can be sent
    assert (await service.verify_code(ON_FILE, code, session_id="c")).status == "locked"
    refused = await service.request_code(ON_FILE, session_id="c")
    await service.drain()
    assert refused.status == "locked" and "staff" in refused.message
    assert len(sender.sent) == 2


async def test_success_resets_the_failure_count(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    """A caller's own count starts again once that caller proves the phone (NIST's
    "consecutive" failures); the phone's ceiling does not (test_callers.py)."""
    service = make_service(OtpPolicy(max_attempts=3, max_failures=3, resend_cooldown_seconds=0))
    caller = "+12125550100"
    await service.request_code(ON_FILE, session_id="c", caller_phone=caller)
    await service.drain()
    code = sender.last_code()
    for _ in range(2):
        await service.verify_code(ON_FILE, wrong(code), session_id="c", caller_phone=caller)
    assert (await service.verify_code(ON_FILE, code, session_id="c", caller_phone=caller)).verified

    await service.request_code(ON_FILE, session_id="c", caller_phone=caller)
    await service.drain()
    code = sender.last_code()
    results = [
        await service.verify_code(ON_FILE, wrong(code), session_id="c", caller_phone=caller)
        for _ in range(2)
    ]
    assert [r.status for r in results] == ["wrong_code", "wrong_code"]  # 2 < 3: not locked


async def test_lock_outranks_cooldown_and_rate_limit(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    service = make_service(OtpPolicy(max_attempts=3, max_phone_failures=1, max_phone_sends=1))
    await service.request_code(ON_FILE, session_id="c")
    await service.drain()
    await service.verify_code(ON_FILE, wrong(sender.last_code()), session_id="c")
    assert (await service.request_code(ON_FILE, session_id="c")).status == "locked"
    await service.drain()
    assert (await service.request_code("bad", session_id="c")).status == "invalid_phone"
    await service.drain()


async def test_cooldown_outranks_rate_limit(make_service: ServiceFactory) -> None:
    service = make_service(OtpPolicy(max_sends=1, resend_cooldown_seconds=30))
    await service.request_code(ON_FILE, session_id="c")
    await service.drain()
    assert (await service.request_code(ON_FILE, session_id="c")).status == "cooldown"
    await service.drain()


# -- delivery in the background (rules 6 and 13) ----------------------------------------


async def test_request_answers_before_the_text_is_sent(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    """The answer comes once the challenge is stored; the send is the service's task."""
    service = make_service()
    outcome = await service.request_code(ON_FILE, session_id="c")

    assert outcome.status == "sent" and outcome.code_pending
    assert outcome.phone_e164 == ON_FILE
    assert sender.sent == []  # not yet: nothing the caller heard waited for it
    await service.drain()
    assert [to for to, _ in sender.sent] == [ON_FILE]


async def test_a_failed_send_keeps_its_cooldown_and_allowance(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    """A decoy never fails, so a failed real send must not give anything back: if it did,
    the next request would tell a patient's number from a stranger's."""
    service = make_service(OtpPolicy(max_sends=1, resend_cooldown_seconds=30))
    sender.fail_with = SmsDeliveryError(
        "provider down", provider="twilio", retryable=True, code=500
    )

    failed = await service.request_code(ON_FILE, session_id="c")
    await service.drain()
    sender.fail_with = None
    again = await service.request_code(ON_FILE, session_id="c")

    assert failed.status == "sent" and failed.code_pending
    assert again.status == "cooldown" and again.code_pending
    assert sender.sent == []


async def test_drain_waits_for_sends_and_aclose_drains(
    store: OtpStore, sender: RecordingSmsSender
) -> None:
    slow = SlowSender(delay=0.05)
    service = OtpService(store, slow, StaticDirectory({ON_FILE}), FAST, pepper=PEPPER)
    await service.request_code(ON_FILE, session_id="a")
    await service.request_code(ON_FILE, session_id="b", caller_phone="+16505550100")
    assert slow.delivered == 0
    await service.drain()
    assert slow.delivered == 2
    await service.request_code(ON_FILE, session_id="c", caller_phone="+16505550101")
    await service.aclose()  # closes the store too: the fixture's aclose is a second, safe one
    assert slow.delivered == 3


def test_sms_body_fits_one_segment_and_carries_no_phi(make_service: ServiceFactory) -> None:
    body = make_service(OtpPolicy(ttl_seconds=60)).sms_body("402991")
    assert body == (
        "Bayview Clinic: your verification code is 402991. It expires in 1 minute. "
        "Don't share it with anyone."
    )
    assert len(body) + 50 <= 160  # room for a clinic name ~60 characters long


async def test_outcomes_say_whether_a_code_is_pending_or_spent(
    make_service: ServiceFactory, sender: RecordingSmsSender
) -> None:
    """Front ends read these instead of keeping their own lists of statuses."""
    service = make_service(OtpPolicy(max_attempts=2))
    bad = await service.request_code("not a number", session_id="c")
    assert (bad.code_pending, bad.phone_e164) == (False, None)
    asked = await service.request_code("(415) 555-0123", session_id="c")
    assert (asked.code_pending, asked.phone_e164) == (True, ON_FILE)
    await service.drain()
    code = sender.last_code()

    malformed = await service.verify_code(ON_FILE, "one two", session_id="c")
    first = await service.verify_code(ON_FILE, wrong(code), session_id="c")
    last = await service.verify_code(ON_FILE, wrong(code), session_id="c")
    none_left = await service.verify_code(ON_FILE, code, session_id="c")
    assert [o.code_spent for o in (malformed, first, last, none_left)] == [
        False,
        False,
        True,
        True,
    ]


class SendOnlySender:
    """A sender written to the published protocol: `send` and nothing else."""

    provider = "send-only"

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, to: str, body: str) -> SmsReceipt:
        self.sent += 1
        return SmsReceipt(self.provider, f"m{self.sent}")


async def test_a_sender_with_only_send_works_and_closes(store: OtpStore) -> None:
    """Issue 16.5: `aclose` is optional (httpx-style); it used to crash `OtpService.aclose`
    with AttributeError."""
    sender = SendOnlySender()
    service = OtpService(store, sender, StaticDirectory({ON_FILE}), pepper=PEPPER)
    assert (await service.request_code(ON_FILE, session_id="c")).sent
    await service.aclose()
    assert sender.sent == 1


async def test_an_e164_handed_in_is_used_as_it_is(
    make_service: ServiceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18.2: a number is parsed once, at the edge. Handed an `E164`, the service never
    normalises it again; it looks its region up once per number (allow-list, metrics)."""
    import phonenumbers

    from verification import E164

    parsed: list[str] = []
    real_parse = phonenumbers.parse

    def counting_parse(number: str, region: str | None = None) -> phonenumbers.PhoneNumber:
        parsed.append(number)
        return real_parse(number, region)

    monkeypatch.setattr(phonenumbers, "parse", counting_parse)
    service = make_service(FAST)
    phone = E164("+14155550177")
    for session in ("a", "b", "c"):
        await service.request_code(phone, session_id=session, caller_phone=E164("+12125550100"))
        await service.verify_code(phone, "000000", session_id=session)
    assert parsed == ["+14155550177"]  # the one region lookup
