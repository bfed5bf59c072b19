"""What the model is sent: the instructions, a note in place of old turns, the recent turns.

Every LLM request sends the whole conversation again, and a call's tool outputs (lists of
appointments, open times) make it grow fast: the OpenAI SDK walks every message of every
request (about 1 ms per turn of history, two requests per tool turn), the model reads it all,
and a small local model's context window fills up. Nothing the rules need is in there: what
the caller has proven lives in `CallState`, and what the caller said is read from the
session's own history (`caller_turns`), which keeps every turn. So the model's copy is cut:

* the instructions (every system or developer message) are always sent;
* the most recent `KEEP_TURNS` caller turns are sent whole: the caller's words, the tool
  calls and outputs, the agent's replies;
* older turns are dropped whole, their tool calls and outputs with them, and one note
  stands in for them (`earlier_turns_note`), written in code from `CallState`: how many turns
  are not shown, what the caller may do so far, whether a code is waiting. It is built from
  counts and levels, never from the dropped text, so it cannot hold a code, a phone number
  or anything from the records.

Old turns go `COMPACT_EVERY` at a time, so between two cuts a request begins exactly as the
one before did and a provider's prompt cache (OpenAI's, llama.cpp's) keeps serving it. The
note travels as LiveKit's per-call instructions message, right after the instructions: one
system text for servers that take one, a message of its own where prompt caching splits them.
`ClinicAgent.llm_node` applies it to every request; the session's history is never changed.
"""

from __future__ import annotations

from typing import Final

from livekit.agents import llm
from livekit.agents.llm.chat_context import DYNAMIC_INSTRUCTIONS_MESSAGE_ID

from verification import VerificationLevel

from .state import CallState

KEEP_TURNS: Final = 6
"""Caller turns the model always sees whole (enough for list, choose, confirm, act)."""
COMPACT_EVERY: Final = 4
"""Older turns are dropped this many at a time: the model sees `KEEP_TURNS` to
`KEEP_TURNS + COMPACT_EVERY - 1` turns, and the start of the request stays put in between."""

INSTRUCTION_ROLES: Final = frozenset({"system", "developer"})


def bounded_context(
    chat_ctx: llm.ChatContext,
    state: CallState | None = None,
    *,
    keep_turns: int = KEEP_TURNS,
    compact_every: int = COMPACT_EVERY,
) -> llm.ChatContext:
    """`chat_ctx` as the model should see it: unchanged while the call is short, else the
    instructions, the note and the recent turns (a new context; `chat_ctx` is not touched)."""
    if keep_turns < 1 or compact_every < 1:
        raise ValueError("keep_turns and compact_every must be at least 1")
    items = chat_ctx.items
    turn_starts = [i for i, item in enumerate(items) if _is_caller_turn(item)]
    dropped = (len(turn_starts) - keep_turns) // compact_every * compact_every
    if dropped <= 0:
        return chat_ctx
    cut = turn_starts[dropped]
    instructions = [item for item in items[:cut] if _is_instruction(item)]
    return llm.ChatContext(
        _with_note(instructions, earlier_turns_note(dropped, state)) + _answered(items[cut:])
    )


def earlier_turns_note(dropped_turns: int, state: CallState | None) -> str:
    """The few facts that outlive the dropped turns, from code: never a code, a number or a
    record's text."""
    note = (
        f"Earlier in this call: {dropped_turns} turns are not shown here, with their tool "
        "calls and results. To use an appointment, an open time or anything else from them, "
        "call the tool again."
    )
    if state is None:
        return note
    return f"{note} {_caller_standing(state)}"


def _caller_standing(state: CallState) -> str:
    cancel = len(state.verified_patients(VerificationLevel.LEVEL_2))
    book = len(state.verified_patients(VerificationLevel.LEVEL_1)) - cancel
    if cancel:
        standing = (
            f"So far the tools have verified the caller to cancel or reschedule for "
            f"{_records(cancel)}"
        )
        standing += f", and to hear and book for {_records(book)} more." if book else "."
    elif book:
        standing = (
            f"So far the tools have verified the caller to hear and book appointments for "
            f"{_records(book)}; cancelling or rescheduling still needs a code."
        )
    else:
        standing = "So far the caller is not verified."
    if state.otp_phone is not None:
        standing += " A code has been sent and not yet checked."
    return standing


def _records(count: int) -> str:
    return "one patient record" if count == 1 else f"{count} patient records"


def _is_caller_turn(item: llm.ChatItem) -> bool:
    return item.type == "message" and item.role == "user"


def _is_instruction(item: llm.ChatItem) -> bool:
    return item.type == "message" and item.role in INSTRUCTION_ROLES


def _with_note(instructions: list[llm.ChatItem], note: str) -> list[llm.ChatItem]:
    """The note right after the first instructions message, as LiveKit's per-call
    instructions (added to that message when there is one already)."""
    at = 1 if instructions else 0
    following = instructions[at] if at < len(instructions) else None
    if following is not None and following.id == DYNAMIC_INSTRUCTIONS_MESSAGE_ID:
        assert following.type == "message"
        merged = following.model_copy(update={"content": [*following.content, note]})
        return [*instructions[:at], merged, *instructions[at + 1 :]]
    message = llm.ChatMessage(id=DYNAMIC_INSTRUCTIONS_MESSAGE_ID, role="system", content=[note])
    return [*instructions[:at], message, *instructions[at:]]


def _answered(items: list[llm.ChatItem]) -> list[llm.ChatItem]:
    """`items` without tool outputs whose call was cut off (a late result of a dropped turn):
    a provider refuses an output that answers no call."""
    calls = {item.call_id for item in items if item.type == "function_call"}
    return [item for item in items if item.type != "function_call_output" or item.call_id in calls]


__all__ = ["COMPACT_EVERY", "KEEP_TURNS", "bounded_context", "earlier_turns_note"]
