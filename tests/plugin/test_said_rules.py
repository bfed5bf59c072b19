"""The rules a host gets by adding `OtpToolset` to a bare `Agent` (no subclass): a code goes
only to a number the caller said or the caller's own, a code said once is checked once, and
a phone is proven only once the host's grant has succeeded. Real AgentSession, scripted LLM,
real OtpService on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from livekit.agents import Agent, AgentSession, RunResult

from tests.support.constants import ALSO_ON_FILE, ON_FILE, PEPPER
from tests.support.conversation import tool_outputs
from tests.support.plugin_calls import CALLER_ID, PluginCall, open_plugin_call
from tests.support.scripted_llm import ScriptedLLM
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpPolicy, OtpService, SqliteOtpStore
from verification.livekit import OtpToolset
from verification.livekit.replies import (
    ALREADY_CHECKED,
    GRANT_FAILED,
    NO_CODE_PENDING,
    NOT_HEARD,
    NUMBER_NOT_SAID,
)

VERIFIED = "Thank you, that code is correct. You're verified."


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


# -- a code goes only to a number the caller said, or to the caller's own -----------------


async def test_a_number_the_caller_never_said_is_not_texted(call: PluginCall) -> None:
    output, is_error = await call.say(
        "I'd like to check my phone", "request_otp", patient_phone="415 555 0188"
    )

    assert (output, is_error) == (NUMBER_NOT_SAID.model, True)
    assert call.sms.sent == [] and call.toolset.pending_phone is None
    assert call.toolset.code_requests == 0  # nothing charged to the call either


async def test_a_number_said_in_an_earlier_turn_may_be_texted(call: PluginCall) -> None:
    call.llm.say("Shall I text it?")
    await call.session.run(user_input="My number is 415 555 0188.")

    output, is_error = await call.say("Yes please", "request_otp", patient_phone="4155550188")

    assert not is_error and output.startswith("I've texted")
    assert [to for to, _ in call.sms.sent] == [ALSO_ON_FILE]


@pytest.mark.parametrize(
    ("said", "argument"),
    [
        ("+1-415-555-0123", "+1-415-555-0123"),
        ("14155550123", "14155550123"),
        ("1-415-555-0123", "1-415-555-0123"),
        ("(415) 555-0123", "(415) 555-0123"),
        ("415.555.0123", "415.555.0123"),
        ("415/555/0123", "4155550123"),
        ("four one five, five five five, oh one two three", "4155550123"),
        ("415, 555, 0123", "415 555 0123"),
    ],
)
async def test_a_number_is_heard_as_people_and_speech_to_text_write_it(
    call: PluginCall, said: str, argument: str
) -> None:
    output, is_error = await call.say(f"Text me at {said}", "request_otp", patient_phone=argument)
    assert not is_error and output.startswith("I've texted"), output
    assert [to for to, _ in call.sms.sent] == [ON_FILE]


async def test_a_number_is_heard_in_the_clinics_region(tmp_path: Path) -> None:
    """A clinic in Britain: "020 7946 0018" is a London number, said the British way."""
    london = "+442079460018"
    sms = RecordingSmsSender()
    otp = OtpService(SqliteOtpStore(tmp_path / "otp.sqlite3"), sms, StaticDirectory({london}),
                     pepper=PEPPER, default_region="GB")  # fmt: skip
    toolset = OtpToolset(otp, session_id="london")
    scripted = ScriptedLLM()
    async with AgentSession[None](llm=scripted) as session:
        await session.start(Agent(instructions="Verify phones.", tools=[toolset]))
        scripted.call("request_otp", patient_phone="020 7946 0018")
        result: RunResult[None] = await session.run(user_input="It's oh two oh, seven nine four "
                                                    "six, double oh one eight")  # fmt: skip
        await otp.drain()
    output, is_error = tool_outputs(result, "request_otp")[0]
    assert not is_error and "ending in 0018" in output
    assert [to for to, _ in sms.sent] == [london]
    await otp.aclose()


async def test_the_caller_id_digits_need_the_callers_word(tmp_path: Path) -> None:
    """The model copying the caller ID's digits is not the caller agreeing to it; the word
    "caller" (the caller's own number, as the caller asked) is."""
    store = SqliteOtpStore(tmp_path / "otp.sqlite3")
    async with open_plugin_call(store, caller_phone=CALLER_ID) as call:
        output, is_error = await call.say("Text me", "request_otp", patient_phone="+14155550123")
        assert (output, is_error) == (NUMBER_NOT_SAID.model, True)
        output, is_error = await call.say("Text me", "request_otp", patient_phone="caller")
        await call.otp.drain()
    assert not is_error and "ending in 0123" in output
    assert [to for to, _ in call.sms.sent] == [ON_FILE]


async def test_a_caller_id_given_in_another_form_is_parsed_once(tmp_path: Path) -> None:
    store = SqliteOtpStore(tmp_path / "otp.sqlite3")
    async with open_plugin_call(store, caller_phone="(415) 555-0123") as call:
        assert call.toolset.caller_phone == ON_FILE
        await call.say("Text this phone", "request_otp", patient_phone="caller")
        await call.otp.drain()
    assert [to for to, _ in call.sms.sent] == [ON_FILE]


# -- a code said once is checked once -------------------------------------------------------


async def request_code(call: PluginCall) -> str:
    output, _ = await call.say("Text 415 555 0123", "request_otp", patient_phone="415 555 0123")
    assert output.startswith("I've texted"), output
    return await call.code()


async def test_a_code_said_once_is_checked_once_in_one_turn(call: PluginCall) -> None:
    """A model that checks the same said code again in its next tool steps (one caller turn)
    used to burn the code: "2 more tries", "1 more try", "can't be used any more"."""
    code = await request_code(call)
    guess = wrong(code)
    call.llm.call("verify_otp", code=guess).chain("verify_otp", code=guess)
    call.llm.chain("verify_otp", code=guess)
    result: RunResult[None] = await call.session.run(user_input=f"It's {guess}")

    outputs = tool_outputs(result, "verify_otp")
    assert outputs == [
        ("That code isn't right. You have 2 more tries.", False),
        (ALREADY_CHECKED.model, True),
        (ALREADY_CHECKED.model, True),
    ]
    output, _ = await call.say(f"Sorry, it's {code}", "verify_otp", code=code)
    assert output.startswith(VERIFIED)  # the code was not burned by the repeats


async def test_the_same_code_said_again_may_be_checked_again(call: PluginCall) -> None:
    """Each saying is one check: a caller who repeats a misheard code is heard again."""
    code = await request_code(call)
    guess = wrong(code)
    await call.say(f"It's {guess}", "verify_otp", code=guess)

    output, is_error = await call.say(f"I said {guess}", "verify_otp", code=guess)

    assert (output, is_error) == ("That code isn't right. You have 1 more try.", False)


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("I was born April twelve nineteen eighty five", "121985"),
        ("My number is +1 402 991 7788", "402991"),
        ("It's 402 9917", "402991"),  # part of a longer run
    ],
)
async def test_digits_of_a_date_or_a_phone_number_are_not_a_code(
    call: PluginCall, said: str, digits: str
) -> None:
    await request_code(call)
    output, is_error = await call.say(said, "verify_otp", code=digits)
    assert (output, is_error) == (NOT_HEARD.model, True)
    assert call.toolset.pending_phone == ON_FILE  # nothing was checked, nothing charged


async def test_a_code_said_in_spanish_is_heard(call: PluginCall) -> None:
    code = await request_code(call)
    words = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]
    spoken = ", ".join(words[int(d)] for d in code)

    output, _ = await call.say(f"es {spoken}", "verify_otp", code=spoken)

    assert output.startswith(VERIFIED)


# -- proof only with a grant ----------------------------------------------------------------


@pytest.mark.parametrize("otp_policy", [OtpPolicy(resend_cooldown_seconds=0)])
async def test_a_failed_grant_proves_nothing_and_a_new_code_can_be_asked_for(
    tmp_path: Path, otp_policy: OtpPolicy
) -> None:
    async with open_plugin_call(
        SqliteOtpStore(tmp_path / "otp.sqlite3"), policy=otp_policy
    ) as call:
        call.host.fail_with = RuntimeError("records down")
        code = await request_code(call)

        output, _ = await call.say(code, "verify_otp", code=code)
        assert output.startswith(GRANT_FAILED.model)
        assert call.toolset.verified_phone is None and call.toolset.pending_phone is None

        output, is_error = await call.say(code, "verify_otp", code=code)
        assert (output, is_error) == (NO_CODE_PENDING.model, True)  # not "already verified"

        call.host.fail_with = None
        code = await request_code(call)
        output, _ = await call.say(code, "verify_otp", code=code)
        assert output == f"{VERIFIED} Account 1 unlocked."
        assert call.toolset.verified_phone == ON_FILE
        assert len(call.host.calls) == 2
