"""Tool latency for Prometheus, labelled by tool name and how the call ended.

Every tool the model calls is timed the same way, the agent's own and the plugin's alike:
LiveKit reports each batch of executed tools (`function_tools_executed`), and a call's time
runs from the model asking for it to its output. How it ended: `ok`, `refused` (a
`ToolError`: the tool said no), `stopped` (the caller cut in) or `error` (the tool broke).
"""

from __future__ import annotations

from typing import Any

from livekit.agents import AgentSession, FunctionToolsExecutedEvent
from prometheus_client import Histogram

TOOL_SECONDS = Histogram(
    "clinic_tool_seconds",
    "Time an agent tool took, by tool and result (ok, refused, stopped, error).",
    ["tool", "result"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# What LiveKit tells the model when a tool raised something other than a ToolError.
_BROKEN_TOOL = "An internal error occurred"


def time_tools(session: AgentSession[Any]) -> None:
    """Count every tool call this session makes in `clinic_tool_seconds`."""
    session.on("function_tools_executed", _observe)


def _observe(event: FunctionToolsExecutedEvent) -> None:
    for call, output in zip(event.function_calls, event.function_call_outputs, strict=False):
        if output is None:
            continue
        if not output.is_error:
            result = "ok" if getattr(output, "reply_required", True) is not False else "stopped"
        elif output.output.startswith(_BROKEN_TOOL):
            result = "error"
        else:
            result = "refused"
        seconds = max(0.0, output.created_at - call.created_at)
        TOOL_SECONDS.labels(tool=call.name, result=result).observe(seconds)
