"""Two small things every tool that acts on a caller's words needs, in one place.

* `caller_turns`: what the caller said in this call (the user messages of the session's
  history, oldest first), optionally only since a moment; the "said" rules read these.
* `proceed_uninterrupted`: before a side effect (texting a code, cancelling a booking),
  stop if the caller already cut the agent off, else hold the floor until the action is
  done: LiveKit's pattern for tools that change the world.
"""

from __future__ import annotations

from typing import Any

from livekit.agents import AgentSession, RunContext, StopResponse


def caller_turns(session: AgentSession[Any], *, since: float | None = None) -> list[str]:
    """The caller's turns in this call, oldest first; with `since` (a `time.time()`
    timestamp), only those that arrived at or after it."""
    return [
        item.text_content or ""
        for item in session.history.items
        if item.type == "message"
        and item.role == "user"
        and (since is None or item.created_at >= since)
    ]


def proceed_uninterrupted(context: RunContext[Any]) -> None:
    """Raise `StopResponse` if the caller interrupted this reply; else disallow interruptions
    until the tool returns (the action then happens whole, and is then told)."""
    if context.speech_handle.interrupted:
        raise StopResponse()
    context.disallow_interruptions()
