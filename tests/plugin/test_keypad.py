"""Keypad entry through the toolset: room `sip_dtmf_received` events from the SIP caller go
straight to `verify_code` while a code is pending; the digits never reach the model, and the
outcome reaches it as tool output (never a system message). A digit from anyone else in the
room (a web participant publishing DTMF, staff joined to a transfer, a server) is ignored.

The room is the real `rtc.Room`, fed the protocol events LiveKit's native client delivers
(`tests/support/plugin_calls.phone_room`): no server is reachable here, and the room's own
decoder turns those events into `SipDTMF` objects with the sending participant."""

from __future__ import annotations

from pathlib import Path

from livekit import rtc
from livekit.agents import Agent, AgentSession, llm
from livekit.agents.testing import fake_job_context

from tests.support.constants import ON_FILE, PEPPER
from tests.support.plugin_calls import (
    SIP,
    SIP_CALLER,
    STANDARD,
    Host,
    PluginCall,
    assert_no_code_in_conversation,
    phone_room,
    press,
)
from tests.support.scripted_llm import ScriptedLLM
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpPolicy, OtpService, SqliteOtpStore
from verification.livekit import OtpToolset
from verification.livekit.replies import DEFAULT_STAFF_HINT, GRANT_FAILED

VERIFIED = "Thank you, that code is correct. You're verified."


async def text_a_code(call: PluginCall) -> str:
    output, is_error = await call.say(
        "Text me at 415 555 0123", "request_otp", patient_phone="415 555 0123"
    )
    assert not is_error and output.startswith("I've texted")
    return await call.code()


def spoken(call: PluginCall) -> list[str]:
    return [
        item.text_content or ""
        for item in call.session.history.items
        if item.type == "message" and item.role == "assistant"
    ]


def keypad_outputs(chat_ctx: llm.ChatContext) -> list[str]:
    return [
        item.output
        for item in chat_ctx.items
        if item.type == "function_call_output" and item.call_id.startswith("keypad_")
    ]


def system_text(chat_ctx: llm.ChatContext) -> str:
    return " ".join(
        item.text_content or ""
        for item in chat_ctx.items
        if item.type == "message" and item.role in ("system", "developer")
    )


async def test_keypad_entry_verifies_and_the_digits_never_reach_the_model(
    call: PluginCall,
) -> None:
    code = await text_a_code(call)
    room = phone_room()
    call.toolset.attach_keypad(room)

    press(room, code)
    await call.toolset.keypad_idle()

    assert call.toolset.verified_phone == ON_FILE and call.toolset.pending_phone is None
    assert call.host.calls == [(None, ON_FILE)]
    assert f"I got the code from your keypad. {VERIFIED}" in spoken(call)
    chat_ctx = call.session.current_agent.chat_ctx
    assert keypad_outputs(chat_ctx) == [f"{VERIFIED} Account 1 unlocked."]
    assert "keypad" not in system_text(chat_ctx) and "verified" not in system_text(chat_ctx)

    call.llm.say("Your account is unlocked.")
    await call.session.run(user_input="Did it work?")
    seen = call.llm.seen_text()
    assert "Account 1 unlocked." in seen  # the model learnt the outcome, as tool output
    assert code not in seen
    assert_no_code_in_conversation(call)


async def test_a_failing_hook_after_a_keypad_code_is_answered_not_silent(
    call: PluginCall,
) -> None:
    call.host.fail_with = ConnectionError("records at 10.0.0.7 refused")
    code = await text_a_code(call)
    room = phone_room()
    call.toolset.attach_keypad(room)

    press(room, code)
    await call.toolset.keypad_idle()

    assert f"I got the code from your keypad. {GRANT_FAILED.caller}" in spoken(call)
    chat_ctx = call.session.current_agent.chat_ctx
    assert keypad_outputs(chat_ctx) == [f"{GRANT_FAILED.model} {DEFAULT_STAFF_HINT}"]
    assert not any("correct" in text for text in spoken(call))
    assert "10.0.0.7" not in chat_ctx.to_dict().__repr__()
    assert call.toolset.verified_phone is None  # no grant, no proof


async def test_digits_pressed_with_no_code_pending_are_ignored(call: PluginCall) -> None:
    room = phone_room()
    call.toolset.attach_keypad(room)
    press(room, "123456#")
    await call.toolset.keypad_idle()
    assert call.toolset.verified_phone is None
    assert not any("keypad" in text for text in spoken(call))


async def test_star_starts_over_and_hash_submits_a_short_entry(call: PluginCall) -> None:
    code = await text_a_code(call)
    room = phone_room()
    call.toolset.attach_keypad(room)

    press(room, "12*34#")
    await call.toolset.keypad_idle()

    assert any("didn't catch a 6-digit code" in text for text in spoken(call))
    assert call.toolset.pending_phone == ON_FILE  # a malformed entry leaves the code pending
    press(room, "9*" + code)
    await call.toolset.keypad_idle()
    assert call.toolset.verified_phone == ON_FILE


async def test_a_wrong_keypad_code_counts_like_a_spoken_one(call: PluginCall) -> None:
    code = await text_a_code(call)
    room = phone_room()
    call.toolset.attach_keypad(room)
    press(room, f"{(int(code) + 1) % 10**6:06d}")
    await call.toolset.keypad_idle()

    output, _ = await call.say(f"it's {code[:3]} {code[3:]}", "verify_otp", code=code)

    assert any("You have 2 more tries." in text for text in spoken(call))
    assert output.startswith(VERIFIED)


async def test_in_a_job_the_toolset_takes_the_job_id_and_listens_to_its_room(
    tmp_path: Path,
) -> None:
    sms = RecordingSmsSender()
    store = SqliteOtpStore(tmp_path / "otp.sqlite3")
    policy = OtpPolicy(resend_cooldown_seconds=0)
    otp = OtpService(store, sms, StaticDirectory({ON_FILE}), policy, pepper=PEPPER)
    host = Host()
    scripted = ScriptedLLM()
    room = phone_room()
    with fake_job_context(room=room, job_id="job-42"):
        toolset = OtpToolset(otp, on_verified=host.on_verified)
        assert toolset.session_id == "job-42"
        async with AgentSession[None](llm=scripted) as session:
            await session.start(Agent(instructions="Verify phones.", tools=[toolset]))
            for _ in range(2):
                scripted.call("request_otp", patient_phone="415 555 0123")
                await session.run(user_input="Text me at 415 555 0123")
                await otp.drain()
                if toolset.verified_phone is None:  # setup() attached the job's room
                    press(room, sms.last_code())
                    await toolset.keypad_idle()
                    assert toolset.verified_phone == ON_FILE
        assert toolset.pending_phone == ON_FILE and len(sms.sent) == 2
        # the session closed: the toolset let go of the room, so the digits do nothing
        press(room, sms.last_code())
        await toolset.keypad_idle()
    assert len(host.calls) == 1 and toolset.pending_phone == ON_FILE
    await otp.aclose()


# -- only the SIP caller's keypad counts --------------------------------------------------


async def test_digits_from_a_web_participant_are_ignored_even_the_right_code(
    call: PluginCall,
) -> None:
    """Any participant can publish DTMF into a room; only the phone caller's count."""
    code = await text_a_code(call)
    room = phone_room((SIP_CALLER, SIP), ("web-visitor", STANDARD))
    call.toolset.attach_keypad(room)

    press(room, code, sender="web-visitor")
    await call.toolset.keypad_idle()

    assert call.toolset.verified_phone is None and call.host.calls == []
    assert call.toolset.pending_phone == ON_FILE  # nothing was checked, nothing charged
    press(room, code)  # the caller's own keypad still works
    await call.toolset.keypad_idle()
    assert call.toolset.verified_phone == ON_FILE


async def test_digits_from_a_second_sip_participant_are_ignored(call: PluginCall) -> None:
    """Staff joined by a transfer are a SIP participant too: with two on the line and no
    caller named, nobody's digits count; naming the caller lets the caller's through."""
    code = await text_a_code(call)
    room = phone_room((SIP_CALLER, SIP), ("sip_staff", SIP))
    call.toolset.attach_keypad(room)

    press(room, code, sender="sip_staff")
    press(room, code)
    await call.toolset.keypad_idle()
    assert call.toolset.verified_phone is None and call.host.calls == []

    call.toolset.caller_identity = SIP_CALLER
    press(room, code, sender="sip_staff")
    await call.toolset.keypad_idle()
    assert call.toolset.verified_phone is None
    press(room, code)
    await call.toolset.keypad_idle()
    assert call.toolset.verified_phone == ON_FILE


async def test_digits_with_no_sender_are_ignored(call: PluginCall) -> None:
    """A DTMF sent by a server SDK carries no participant: not the caller's keypad."""
    code = await text_a_code(call)
    room = phone_room()
    call.toolset.attach_keypad(room)
    for key in code:
        room.emit("sip_dtmf_received", rtc.SipDTMF(code=0, digit=key, participant=None))
    await call.toolset.keypad_idle()
    assert call.toolset.verified_phone is None and call.toolset.pending_phone == ON_FILE
