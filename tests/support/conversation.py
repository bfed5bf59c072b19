"""Reading a scripted call's turns: tool outputs, and the check that no code was revealed."""

from __future__ import annotations

from collections.abc import Iterable

from livekit.agents import RunResult, llm

from tests.support.sms import RecordingSmsSender, codes_in


def tool_outputs(result: RunResult[None], name: str) -> list[tuple[str, bool]]:
    """(output, is_error) of every call to tool `name` in this turn, in order."""
    call_ids = {
        e.item.call_id for e in result.events if e.type == "function_call" and e.item.name == name
    }
    return [
        (e.item.output, e.item.is_error)
        for e in result.events
        if e.type == "function_call_output" and e.item.call_id in call_ids
    ]


def tool_output(result: RunResult[None], name: str) -> tuple[str, bool]:
    """(output, is_error) of the first call to tool `name` in this turn."""
    outputs = tool_outputs(result, name)
    assert outputs, f"{name} was not called"
    return outputs[0]


def generated_codes(sms: RecordingSmsSender) -> set[str]:
    """Every code the service texted in this call."""
    return codes_in(body for _, body in sms.sent)


def assert_no_code_in(contexts: Iterable[llm.ChatContext], codes: set[str]) -> None:
    """Rule 7: no tool output and no assistant or system message holds a generated code
    (what the caller says, and the tool arguments made from it, are the caller's own)."""
    for chat_ctx in contexts:
        for item in chat_ctx.items:
            if item.type == "function_call_output":
                text = item.output
            elif item.type == "message" and item.role != "user":
                text = item.text_content or ""
            else:
                continue
            for code in codes:
                assert code not in text, f"code in {item.type}: {text}"
