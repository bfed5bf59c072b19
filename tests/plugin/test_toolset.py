"""OtpToolset on a minimal Agent: the real AgentSession runs its tool loop around the scripted
model; the tools run against a real OtpService on SQLite (and Redis for parallel guesses)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from livekit.agents import RunResult, llm

from tests.support.constants import ALSO_ON_FILE, NOT_ON_FILE, ON_FILE, PEPPER
from tests.support.conversation import tool_outputs
from tests.support.plugin_calls import (
    CALLER_ID,
    Host,
    PluginCall,
    assert_no_code_in_conversation,
    open_plugin_call,
)
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpPolicy, OtpService, OtpStore, RedisOtpStore, SqliteOtpStore
from verification.livekit import OtpToolset, VerifyPhoneTask
from verification.livekit.replies import (
    CHECKING_NOW,
    DEFAULT_STAFF_HINT,
    GRANT_FAILED,
    NOT_HEARD,
    SENDING_NOW,
)

VERIFIED = "Thank you, that code is correct. You're verified."


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def request_code(call: PluginCall, phone: str = "415 555 0123") -> str:
    output, is_error = await call.say(f"Text me at {phone}", "request_otp", patient_phone=phone)
    assert not is_error and output.startswith("I've texted a 6-digit code"), output
    return await call.code()


async def test_a_said_code_proves_the_phone_and_calls_the_hook(call: PluginCall) -> None:
    code = await request_code(call)
    assert call.toolset.pending_phone == ON_FILE
    assert call.toolset.verified_phone is None

    output, is_error = await call.say(f"It's {code}", "verify_otp", code=code)

    assert (output, is_error) == (f"{VERIFIED} Account 1 unlocked.", False)
    assert call.toolset.verified_phone == ON_FILE
    assert call.toolset.pending_phone is None
    [(context, phone)] = call.host.calls
    assert context is not None and phone == ON_FILE


async def test_spoken_words_count_as_the_digits_they_spell(call: PluginCall) -> None:
    code = await request_code(call)
    words = ["oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    spoken = " ".join(words[int(d)] for d in code)

    output, _ = await call.say(f"um, {spoken}", "verify_otp", code=code)

    assert output.startswith(VERIFIED)


async def test_the_code_may_be_read_over_two_turns(call: PluginCall) -> None:
    code = await request_code(call)
    call.llm.say("Go on.")
    await call.session.run(user_input=f"it's {code[:3]}")

    output, _ = await call.say(f"and {code[3:]}", "verify_otp", code=code)

    assert output.startswith(VERIFIED)


async def test_a_number_not_on_file_sounds_the_same_and_texts_nothing(call: PluginCall) -> None:
    decoy, _ = await call.say("Text 415 555 0199", "request_otp", patient_phone="415 555 0199")
    real, _ = await call.say("Text 415 555 0188", "request_otp", patient_phone="415 555 0188")

    assert decoy.replace("0199", "0188") == real
    assert [to for to, _ in call.sms.sent] == [ALSO_ON_FILE]
    assert call.toolset.pending_phone == ALSO_ON_FILE


async def test_a_wrong_guess_leaves_the_code_pending_with_fewer_tries(call: PluginCall) -> None:
    code = await request_code(call)
    output, is_error = await call.say(wrong(code), "verify_otp", code=wrong(code))
    assert (output, is_error) == ("That code isn't right. You have 2 more tries.", False)
    assert call.toolset.pending_phone == ON_FILE and call.host.calls == []


async def test_a_burned_code_takes_no_more_guesses(call: PluginCall) -> None:
    code = await request_code(call)
    for _ in range(3):
        output, _ = await call.say(wrong(code), "verify_otp", code=wrong(code))
    assert output.startswith("That code isn't right, and it can't be used any more.")
    assert call.toolset.pending_phone is None

    output, is_error = await call.say(code, "verify_otp", code=code)

    assert is_error and output.startswith("No code is pending on this call.")
    assert call.toolset.verified_phone is None


async def test_a_second_check_after_success_says_no_code_is_needed(call: PluginCall) -> None:
    code = await request_code(call)
    await call.say(code, "verify_otp", code=code)

    output, is_error = await call.say(f"again: {code}", "verify_otp", code=code)

    assert (output, is_error) == (
        "The number ending in 0123 is already verified in this call: no code is needed.",
        False,
    )
    assert len(call.host.calls) == 1


@pytest.mark.parametrize(
    "otp_policy", [OtpPolicy(max_failures=2, max_phone_failures=2, resend_cooldown_seconds=0)]
)
async def test_a_locked_number_is_answered_with_the_offer_of_a_person(
    tmp_path: Path, otp_policy: OtpPolicy
) -> None:
    store = SqliteOtpStore(tmp_path / "otp.sqlite3")
    # a caller whose number is neither withheld nor the patient's: their own limit locks
    async with open_plugin_call(store, policy=otp_policy, caller_phone="+14155550177") as call:
        code = await request_code(call)
        await call.say(wrong(code), "verify_otp", code=wrong(code))
        locked, _ = await call.say(wrong(code), "verify_otp", code=wrong(code))
        again, _ = await call.say("Send another", "request_otp", patient_phone="415 555 0123")

    for output in (locked, again):
        assert "locked" in output and output.endswith(DEFAULT_STAFF_HINT)
    assert call.toolset.pending_phone is None and call.toolset.verified_phone is None


async def test_verify_before_any_request_is_refused(call: PluginCall) -> None:
    output, is_error = await call.say("123456", "verify_otp", code="123456")
    assert is_error and "Offer to text one (request_otp)" in output


# -- the caller's own number ---------------------------------------------------------------


@pytest.mark.parametrize("word", ["caller", "Caller ID", "the caller's number", "this number."])
async def test_caller_and_similar_words_mean_the_callers_own_number(
    tmp_path: Path, word: str
) -> None:
    async with open_plugin_call(
        SqliteOtpStore(tmp_path / "otp.sqlite3"), caller_phone=CALLER_ID
    ) as call:
        output, is_error = await call.say("Text this phone", "request_otp", patient_phone=word)
        await call.otp.drain()
        assert not is_error and "ending in 0123" in output
        assert [to for to, _ in call.sms.sent] == [CALLER_ID]


@pytest.mark.parametrize("words", ["my wife's number", "the caller's mum", "415 555 01"])
async def test_other_words_are_not_taken_for_the_callers_number(tmp_path: Path, words: str) -> None:
    async with open_plugin_call(
        SqliteOtpStore(tmp_path / "otp.sqlite3"), caller_phone=CALLER_ID
    ) as call:
        output, _ = await call.say("Text her", "request_otp", patient_phone=words)
        assert output.startswith("That doesn't sound like a valid phone number.")
        assert call.sms.sent == [] and call.toolset.pending_phone is None


async def test_caller_without_a_caller_id_asks_for_the_number(call: PluginCall) -> None:
    output, is_error = await call.say("Text me", "request_otp", patient_phone="caller")
    assert is_error and output == "The caller's own number isn't known. Ask for the phone on file."
    assert call.sms.sent == [] and call.toolset.code_requests == 0


# -- per-call limits, also under parallel tool calls ---------------------------------------


async def test_parallel_requests_in_one_turn_evaluate_one(call: PluginCall) -> None:
    numbers = ["415 555 0123", "415 555 0188", "415 555 0199", "415 555 0123"]
    call.llm.call_parallel(*(("request_otp", {"patient_phone": n}) for n in numbers))
    said = "Text all of them! " + ", ".join(numbers)
    result: RunResult[None] = await call.session.run(user_input=said)
    await call.otp.drain()

    outputs = [output for output, _ in tool_outputs(result, "request_otp")]
    assert len(outputs) == 4
    assert sum(o.startswith("I've texted") for o in outputs) == 1
    assert outputs.count(SENDING_NOW.model) == 3
    assert call.toolset.code_requests == 1
    assert len(call.sms.sent) == 1


@pytest.mark.parametrize("otp_policy", [OtpPolicy(resend_cooldown_seconds=0, max_sends=10)])
async def test_at_most_five_code_requests_per_call_exactly(
    tmp_path: Path, otp_policy: OtpPolicy
) -> None:
    async with open_plugin_call(
        SqliteOtpStore(tmp_path / "otp.sqlite3"), policy=otp_policy
    ) as call:
        for _ in range(4):
            _, is_error = await call.say(
                "Text me at 415 555 0123", "request_otp", patient_phone="415 555 0123"
            )
            assert not is_error
        call.llm.call_parallel(*[("request_otp", {"patient_phone": "415 555 0188"})] * 3)
        result: RunResult[None] = await call.session.run(user_input="415 555 0188, again, again")
        await call.otp.drain()
        outputs = [output for output, _ in tool_outputs(result, "request_otp")]
        assert (
            outputs.count(SENDING_NOW.model) == 2
            and sum(o.startswith("I've") for o in outputs) == 1
        )
        assert call.toolset.code_requests == 5 and len(call.sms.sent) == 5

        output, is_error = await call.say(
            "One more to 415 555 0188", "request_otp", patient_phone="415 555 0188"
        )

        assert (
            is_error and output == f"No more codes can be sent on this call. {DEFAULT_STAFF_HINT}"
        )
        assert call.toolset.code_requests == 5 and len(call.sms.sent) == 5


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest, tmp_path: Path, key_prefix: str) -> OtpStore:
    if request.param == "sqlite":
        return SqliteOtpStore(tmp_path / "otp.sqlite3")
    redis_url: str = request.getfixturevalue("redis_url")
    return RedisOtpStore.from_url(redis_url, key_prefix=key_prefix)


async def test_parallel_guesses_in_one_turn_evaluate_one_and_count_one(store: OtpStore) -> None:
    async with open_plugin_call(store) as call:
        code = await request_code(call)
        guess = wrong(code)
        call.llm.call_parallel(*[("verify_otp", {"code": guess})] * 5)
        result: RunResult[None] = await call.session.run(user_input=f"It's {guess}!")

        outputs = [output for output, _ in tool_outputs(result, "verify_otp")]
        assert sorted(outputs) == sorted(
            ["That code isn't right. You have 2 more tries.", *[CHECKING_NOW.model] * 4]
        )
        # exact afterwards: the next guess is the second one the store saw
        output, _ = await call.say(guess, "verify_otp", code=guess)
        assert output == "That code isn't right. You have 1 more try."
        output, _ = await call.say(code, "verify_otp", code=code)
        assert output.startswith(VERIFIED) and call.toolset.verified_phone == ON_FILE
        assert len(call.host.calls) == 1
        assert_no_code_in_conversation(call)


# -- a guess counts only if the caller said it ---------------------------------------------


async def test_an_invented_code_is_refused_and_costs_no_attempt(call: PluginCall) -> None:
    code = await request_code(call)
    for invented in (wrong(code), code):  # even the right digits, if the caller never said them
        output, is_error = await call.say("I haven't got it yet", "verify_otp", code=invented)
        assert (output, is_error) == (NOT_HEARD.model, True)
    assert call.toolset.pending_phone == ON_FILE and call.toolset.verified_phone is None

    output, _ = await call.say(f"It's {wrong(code)}", "verify_otp", code=wrong(code))
    assert output == "That code isn't right. You have 2 more tries."  # the first that counted


async def test_digits_said_before_the_code_was_requested_do_not_count(call: PluginCall) -> None:
    call.llm.say("Thanks.")
    await call.session.run(user_input="I was born on 12 1985, card ending 402991")
    await request_code(call)

    for invented in ("121985", "402991"):
        output, is_error = await call.say("what now", "verify_otp", code=invented)
        assert (output, is_error) == (NOT_HEARD.model, True)


async def test_an_unreadable_code_is_answered_as_malformed(call: PluginCall) -> None:
    await request_code(call)
    output, is_error = await call.say("one two", "verify_otp", code="one two")
    assert not is_error and output.startswith("I didn't catch a 6-digit code")
    assert call.toolset.pending_phone == ON_FILE


# -- the host's hook -----------------------------------------------------------------------


async def test_a_failing_hook_after_a_correct_code_offers_staff_and_claims_nothing(
    call: PluginCall,
) -> None:
    call.host.fail_with = RuntimeError("records database is down at db-7.internal")
    code = await request_code(call)

    output, is_error = await call.say(code, "verify_otp", code=code)

    assert (output, is_error) == (f"{GRANT_FAILED.model} {DEFAULT_STAFF_HINT}", False)
    assert "correct" not in output and "verified" not in output.lower()
    assert "db-7" not in call.llm.seen_text() and "records database" not in call.llm.seen_text()
    assert call.toolset.verified_phone is None  # no grant, no proof


async def test_a_hook_that_grants_nothing_adds_nothing(tmp_path: Path) -> None:
    host = Host(answer=None)
    async with open_plugin_call(SqliteOtpStore(tmp_path / "otp.sqlite3"), host=host) as call:
        code = await request_code(call)
        output, _ = await call.say(code, "verify_otp", code=code)
        assert output == VERIFIED


async def test_without_a_hook_the_phone_is_still_proven(tmp_path: Path) -> None:
    def no_hook(otp: OtpService, host: Host) -> OtpToolset:
        return OtpToolset(otp, session_id="no-hook")

    async with open_plugin_call(
        SqliteOtpStore(tmp_path / "otp.sqlite3"), make_toolset=no_hook
    ) as call:
        code = await request_code(call)
        output, _ = await call.say(code, "verify_otp", code=code)
        assert output == VERIFIED and call.toolset.verified_phone == ON_FILE


async def test_verified_phone_stays_set_for_the_call(call: PluginCall) -> None:
    code = await request_code(call)
    await call.say(code, "verify_otp", code=code)
    await call.say("Text 415 555 0199", "request_otp", patient_phone="415 555 0199")
    assert call.toolset.pending_phone == NOT_ON_FILE
    output, _ = await call.say("000000", "verify_otp", code="000000")
    assert output.startswith("That code isn't right")
    assert call.toolset.verified_phone == ON_FILE


async def test_outside_a_job_session_id_is_required(tmp_path: Path) -> None:
    store = SqliteOtpStore(tmp_path / "otp.sqlite3")
    otp = OtpService(store, RecordingSmsSender(), StaticDirectory(set()), pepper=PEPPER)
    with pytest.raises(ValueError, match="session_id"):
        OtpToolset(otp)
    await otp.aclose()


# -- nothing for a model to copy -----------------------------------------------------------

DESCRIPTIONS_BUDGET = 660  # characters of the toolset's tool schemas, as the model gets them


async def test_tool_descriptions_hold_no_value_a_model_could_copy(tmp_path: Path) -> None:
    """A small model copied verify_otp's example code ("402991") into its calls: schemas
    hold placeholders only, no digits at all, and stay short (they are re-sent every turn)."""
    store = SqliteOtpStore(tmp_path / "otp.sqlite3")
    otp = OtpService(store, RecordingSmsSender(), StaticDirectory(set()), pepper=PEPPER)
    task = VerifyPhoneTask(otp, session_id="descriptions")
    for tools in ([OtpToolset(otp, session_id="descriptions")], task.tools):
        schemas = llm.ToolContext(list(tools)).parse_function_tools("openai", strict=True)
        text = json.dumps(schemas, separators=(",", ":"))
        assert not re.search(r"\d", text), text
    toolset = OtpToolset(otp, session_id="budget")
    schemas = llm.ToolContext([toolset]).parse_function_tools("openai", strict=True)
    assert len(json.dumps(schemas, separators=(",", ":"))) <= DESCRIPTIONS_BUDGET
    await otp.aclose()
