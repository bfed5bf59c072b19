"""Hostile phones, session ids and codes through `OtpService`, on SQLite and on real Redis.

Properties, per example (a fresh store, or a fresh key prefix on the shared private Redis):

* `request_code` / `verify_code` raise nothing but the documented `ValueError`, and that only
  for a session id that is not a non-empty string of at most 256 characters;
* every outcome has a documented status;
* a guess verifies only when it is the code issued (spoken or typed), for the same phone (any
  spelling that normalises to it), in the same session, while that code is live; anything else
  never verifies;
* a text goes only to the number on file.

The code generator is pinned to a known value so "only the right code verifies" is checked
exactly, not up to a one-in-a-million chance.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.constants import PEPPER
from tests.support.hostile_strategies import (
    FUZZ_EXAMPLES,
    INJECTIONS,
    QUICK_EXAMPLES,
    SURROGATES,
    VALID_CODES,
    huge_text,
    non_strings,
    strings,
    weighted,
)
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import (
    IdentityThrottle,
    KnowledgePolicy,
    OtpService,
    OtpStore,
    RedisOtpStore,
    SqliteOtpStore,
    normalize_phone,
    parse_spoken_code,
)

ON_FILE = "+14155550123"
KNOWN_CODE = "402991"
REQUEST_STATUSES = {
    "sent",
    "invalid_phone",
    "locked",
    "cooldown",
    "rate_limited",
    "delivery_failed",
    "unavailable",
}
VERIFY_STATUSES = {"verified", "wrong_code", "expired", "no_code", "locked", "malformed"}
VERIFY_STATUSES |= {"unavailable"}
MOSTLY = st.sampled_from([True, True, True, False])
OUTCOMES: Counter[str] = Counter()  # what the property exercised; printed with `pytest -s`
COUNTS = [
    pytest.param(QUICK_EXAMPLES, id="quick"),
    pytest.param(FUZZ_EXAMPLES, id="fuzz", marks=pytest.mark.fuzz),
]

PHONES = [
    ON_FILE,
    "415 555 0123",
    "(415) 555-0123",
    "+1 415 555 0123",
    "＋１ ４１５ ５５５ ０１２３",  # noqa: RUF001 - normalises to the number on file
    "+14155550199",  # valid, not on file: a decoy
    "+442079460958",
]
SESSIONS = ["call-123", "AJ_8fKx2LpQ", "x", "s" * 256, "{+14155550123}", "ses\x00sion"]
CODES = [
    KNOWN_CODE,
    "four oh two nine nine one",
    "402 991",
    "4-0-2-9-9-1",
    "forty two ninety nine one",
    " 402991\x00",
    "402991'; --",
    "４０２９９１",  # noqa: RUF001 - look-alike digits: must never verify
    "4029910",
    "40299",
    "-402991",
    "402992",  # well-formed but wrong: these count as attempts
    "000000",
    "one two three four five six",
    "double four triple two one",
]


def session_ids() -> st.SearchStrategy[Any]:
    return weighted(
        (st.sampled_from(SESSIONS), 6),
        (strings(SESSIONS), 2),
        (st.sampled_from(["", "s" * 257, *INJECTIONS]), 1),
        (huge_text(), 1),
        (non_strings(), 1),
    )


def phones() -> st.SearchStrategy[Any]:
    return weighted((st.sampled_from(PHONES), 6), (strings(PHONES), 3), (non_strings(), 1))


def caller_phones() -> st.SearchStrategy[Any]:
    """The SIP caller id as the agent passes it: absent, a number, or anything at all."""
    return weighted(
        (st.none(), 3), (st.sampled_from(PHONES), 3), (strings(PHONES), 2), (non_strings(), 1)
    )


def codes() -> st.SearchStrategy[Any]:
    return weighted(
        (st.sampled_from(CODES), 6), (strings([*CODES, *VALID_CODES]), 3), (non_strings(), 1)
    )


def documented_bad_session(session_id: Any) -> bool:
    """`OtpService` documents ValueError for exactly these session ids."""
    if not isinstance(session_id, str) or not 0 < len(session_id) <= 256:
        return True
    return any(c in session_id for c in SURROGATES)  # not valid Unicode text


def e164_or_none(phone: Any) -> str | None:
    try:
        return normalize_phone(phone)
    except ValueError:
        return None


@contextmanager
def pinned_code() -> Iterator[None]:
    with mock.patch("verification.service.generate_code", return_value=KNOWN_CODE):
        yield


@asynccontextmanager
async def open_service(
    backend: str, root: Path, redis_url: str | None, prefix: str
) -> AsyncIterator[tuple[OtpService, RecordingSmsSender]]:
    store: OtpStore
    if backend == "sqlite":
        store = SqliteOtpStore(root / "otp.sqlite3")
    else:
        assert redis_url is not None
        store = RedisOtpStore.from_url(redis_url, key_prefix=prefix)
    sender = RecordingSmsSender()
    service = OtpService(store, sender, StaticDirectory({ON_FILE}), pepper=PEPPER)
    try:
        yield service, sender
    finally:
        await service.aclose()


async def hostile_exchange(service: OtpService, sms: RecordingSmsSender, data: Any) -> None:
    phone = data.draw(phones(), label="phone")
    session = data.draw(session_ids(), label="session")
    caller = data.draw(caller_phones(), label="caller")
    if documented_bad_session(session):
        with pytest.raises(ValueError):
            await service.request_code(phone, session_id=session, caller_phone=caller)
        OUTCOMES["request: ValueError (bad session id)"] += 1
        return
    requested = await service.request_code(phone, session_id=session, caller_phone=caller)
    await service.drain()
    assert requested.status in REQUEST_STATUSES
    OUTCOMES[f"request: {requested.status}"] += 1
    issued_to = e164_or_none(phone)
    assert (requested.status == "invalid_phone") == (issued_to is None), (phone, requested)
    assert all(to == ON_FILE for to, _ in sms.sent), "a text went to a number not on file"
    live = requested.status == "sent"  # a real code or a decoy: both verify the same way

    for _ in range(data.draw(st.integers(1, 4), label="guesses")):
        same_phone = data.draw(MOSTLY, label="same phone")
        guess_phone = phone if same_phone else data.draw(phones(), label="guess phone")
        same_session = data.draw(MOSTLY, label="same session")
        guess_session = session if same_session else data.draw(session_ids(), label="session")
        code = data.draw(codes(), label="code")
        if documented_bad_session(guess_session):
            with pytest.raises(ValueError):
                await service.verify_code(guess_phone, code, session_id=guess_session)
            OUTCOMES["verify: ValueError (bad session id)"] += 1
            continue
        outcome = await service.verify_code(
            guess_phone, code, session_id=guess_session, caller_phone=caller
        )
        assert outcome.status in VERIFY_STATUSES
        OUTCOMES[f"verify: {outcome.status}"] += 1
        assert outcome.verified == (outcome.status == "verified")
        right = (
            live
            and guess_session == session
            and e164_or_none(guess_phone) == issued_to
            and isinstance(code, str)
            and parse_spoken_code(code) == KNOWN_CODE
        )
        assert outcome.verified == right, (phone, session, guess_phone, guess_session, code)
        if guess_session == session and e164_or_none(guess_phone) == issued_to and live:
            if outcome.status == "verified":
                live = False
            elif outcome.status == "wrong_code":
                live = bool(outcome.attempts_left)
            elif outcome.status != "malformed":
                live = False


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
@pytest.mark.parametrize("examples", COUNTS)
def test_otp_service_with_hostile_phones_sessions_and_codes(
    examples: int, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    redis_url = request.getfixturevalue("redis_url") if backend == "redis" else None
    prefix = request.getfixturevalue("key_prefix")
    with asyncio.Runner() as runner, pinned_code():

        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(st.data())
        def prop(data: Any) -> None:
            with tempfile.TemporaryDirectory(dir=tmp_path) as root:

                async def one() -> None:
                    example_prefix = f"{prefix}-{uuid.uuid4().hex[:8]}"
                    async with open_service(backend, Path(root), redis_url, example_prefix) as (
                        service,
                        sms,
                    ):
                        await hostile_exchange(service, sms, data)

                runner.run(one())

        OUTCOMES.clear()
        prop()
        print(f"\n{backend}:", *(f"{n:6d}  {k}" for k, n in sorted(OUTCOMES.items())), sep="\n")


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_only_the_issued_code_verifies(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The property above is not vacuous: with the pinned code the right guess does verify,
    and look-alike digits, another session or another phone do not."""
    redis_url = request.getfixturevalue("redis_url") if backend == "redis" else None
    prefix = request.getfixturevalue("key_prefix")
    with pinned_code():
        async with open_service(backend, tmp_path, redis_url, prefix) as (service, sms):
            assert (await service.request_code("415 555 0123", session_id="s1")).status == "sent"
            await service.drain()
            assert sms.sent and sms.sent[-1][0] == ON_FILE
            for phone, code, session in [
                (ON_FILE, "４０２９９１", "s1"),  # noqa: RUF001
                (ON_FILE, KNOWN_CODE, "s2"),
                ("+14155550199", KNOWN_CODE, "s1"),
            ]:
                outcome = await service.verify_code(phone, code, session_id=session)
                assert not outcome.verified, (phone, code, session)
            outcome = await service.verify_code(
                "(415) 555-0123", "four oh two nine nine one", session_id="s1"
            )
            assert outcome.verified


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_session_id_with_a_lone_surrogate_is_refused_up_front(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    redis_url = request.getfixturevalue("redis_url") if backend == "redis" else None
    prefix = request.getfixturevalue("key_prefix")
    async with open_service(backend, tmp_path, redis_url, prefix) as (service, _):
        try:
            await service.request_code(ON_FILE, session_id="call-\ud800")
        except ValueError as exc:
            assert "session_id" in str(exc), f"{type(exc).__name__}: {exc}"
        else:
            pytest.fail("accepted a session id the store cannot encode")


def record_ids() -> st.SearchStrategy[Any]:
    return weighted(
        (st.none(), 2), (st.sampled_from(["P1", "P2"]), 4), (strings(["P1"]), 2), (huge_text(), 1)
    )


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
@pytest.mark.parametrize("examples", COUNTS)
def test_identity_throttle_with_hostile_records_and_callers(
    examples: int, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Whatever record ids and caller ids arrive, `attempt` and `succeeded` raise nothing,
    and no record or caller ever gets more answers than its limit."""
    redis_url = request.getfixturevalue("redis_url") if backend == "redis" else None
    prefix = request.getfixturevalue("key_prefix")
    policy = KnowledgePolicy(max_failures_per_record=2, max_failures_per_caller=3)
    with asyncio.Runner() as runner:

        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(st.data())
        def prop(data: Any) -> None:
            with tempfile.TemporaryDirectory(dir=tmp_path) as root:

                async def one() -> None:
                    store: OtpStore = (
                        SqliteOtpStore(Path(root) / "otp.sqlite3")
                        if redis_url is None
                        else RedisOtpStore.from_url(
                            redis_url, key_prefix=f"{prefix}-{uuid.uuid4().hex[:8]}"
                        )
                    )
                    throttle = IdentityThrottle(store, policy, pepper=PEPPER)
                    allowed: Counter[str] = Counter()
                    try:
                        for _ in range(data.draw(st.integers(1, 8), label="answers")):
                            record = data.draw(record_ids(), label="record")
                            caller = data.draw(caller_phones(), label="caller")
                            decision = await throttle.attempt(record_id=record, caller_phone=caller)
                            if decision.allowed and isinstance(record, str):
                                allowed[record] += 1
                            if decision.allowed and data.draw(MOSTLY, label="wrong"):
                                continue
                            if decision.allowed:
                                await throttle.succeeded(record_id=record, caller_phone=caller)
                                allowed[record] -= 1
                        assert all(n <= policy.max_failures_per_record for n in allowed.values())
                    finally:
                        await store.aclose()

                runner.run(one())

        prop()
