"""A scripted stand-in for the model: the test says which tools the "LLM" calls next.

It is a real `livekit.agents.llm.LLM`, so the real `AgentSession` runs its real tool loop
around it: tool schemas, argument parsing, `ToolError` handling, history. Each `chat()` call
takes the next queued step (tool calls or a sentence); with nothing queued it answers like a
model relaying the last tool output, so every tool output also reaches an assistant message
(which is what makes the "no code in any assistant message" checks meaningful).
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import APIConnectionError, llm
from livekit.agents.llm.tool_context import Tool, ToolChoice
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)


@dataclass
class Step:
    """One model turn: text (streamed in `chunks` when given) and/or tool calls. A call's
    arguments are a dict (sent as JSON) or a raw string sent as it is. With `error`, the
    model server fails this turn instead (LiveKit retries a retryable one, then gives up)."""

    text: str | None = None
    calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    chunks: list[str] = field(default_factory=list)
    error: Exception | None = None
    #: may be the reply right after a tool's output (the model's next tool step in one turn)
    after_tool: bool = False
    #: taken even when the session asks for a reply without tools (tool_choice "none")
    without_tools: bool = False


class ScriptedLLM(llm.LLM[Any]):
    def __init__(self) -> None:
        super().__init__()
        self.steps: deque[Step] = deque()
        self.requests: list[llm.ChatContext] = []
        #: the tools each request offered the model, in order
        self.tools_seen: list[list[Tool]] = []
        self._ids = itertools.count(1)

    @property
    def model(self) -> str:
        return "scripted"

    def call(self, name: str, **arguments: Any) -> ScriptedLLM:
        """Queue one turn in which the model calls `name` with `arguments`."""
        self.steps.append(Step(calls=[(name, arguments)]))
        return self

    def call_parallel(self, *calls: tuple[str, dict[str, Any]]) -> ScriptedLLM:
        """Queue one turn in which the model calls several tools at once."""
        self.steps.append(Step(calls=[(name, args) for name, args in calls]))
        return self

    def say(self, text: str) -> ScriptedLLM:
        self.steps.append(Step(text=text))
        return self

    def stream(self, *chunks: str) -> ScriptedLLM:
        """Queue one turn of text that arrives in these pieces (as a real model streams)."""
        self.steps.append(Step(chunks=list(chunks)))
        return self

    def call_with_text(self, text: str, name: str, **arguments: Any) -> ScriptedLLM:
        """Queue one turn in which the model writes `text` and also calls `name`: the stray
        words some models put around a call."""
        self.steps.append(Step(text=text, calls=[(name, arguments)]))
        return self

    def fail(self, message: str = "failed to generate LLM completion") -> ScriptedLLM:
        """Queue one turn in which the model server fails (as llama.cpp does on a tool call it
        cannot parse): an error LiveKit does not retry, so the reply is given up at once."""
        self.steps.append(Step(error=APIConnectionError(message, retryable=False)))
        return self

    def call_raw(self, name: str, arguments: str) -> ScriptedLLM:
        """Queue a call whose arguments are this exact string (malformed or odd JSON)."""
        self.steps.append(Step(calls=[(name, arguments)]))
        return self

    def chain(self, name: str, **arguments: Any) -> ScriptedLLM:
        """Queue a call the model makes in the same turn, as its next tool step right after
        the previous tool's output (LiveKit runs up to `max_tool_steps` such steps)."""
        self.steps.append(Step(calls=[(name, arguments)], after_tool=True))
        return self

    def write_call_as_text(self, name: str, **arguments: Any) -> ScriptedLLM:
        """Queue a reply in which the model writes a tool call as JSON text instead of making
        it: what small models do when asked for a reply without tools (after LiveKit's
        tool-step cap). Taken next, even right after a tool output and with tools off."""
        text = json.dumps({"name": name, "arguments": arguments})
        self.steps.append(Step(text=text, after_tool=True, without_tools=True))
        return self

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        self.requests.append(chat_ctx.copy())
        self.tools_seen.append(list(tools or []))
        step = self._next_step(chat_ctx, tool_choice)
        return _ScriptedStream(
            self, step=step, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options
        )

    def _next_step(self, chat_ctx: llm.ChatContext, tool_choice: Any) -> Step:
        last = chat_ctx.items[-1] if chat_ctx.items else None
        after_tool = last is not None and last.type == "function_call_output"
        head = self.steps[0] if self.steps else None
        # a queued tool call belongs to the next user turn, not to the reply after a tool
        # (unless it is queued as the next tool step: `chain`)
        if (
            head is not None
            and (tool_choice != "none" or head.without_tools)
            and not (after_tool and head.calls and not head.after_tool)
        ):
            return self.steps.popleft()
        if after_tool and last is not None and last.type == "function_call_output":
            return Step(text=f"(relaying) {last.output}")
        return Step(text="How else can I help?")

    def seen_text(self) -> str:
        """Everything the model was ever shown, as one string (for leak checks)."""
        return "\n".join(json.dumps(ctx.to_dict(), default=str) for ctx in self.requests)


class _ScriptedStream(llm.LLMStream):
    def __init__(self, owner: ScriptedLLM, *, step: Step, **kwargs: Any) -> None:
        self._step = step
        self._owner = owner
        super().__init__(owner, **kwargs)

    async def _run(self) -> None:
        if self._step.error is not None:
            raise self._step.error
        calls = [
            llm.FunctionToolCall(
                name=name,
                arguments=args if isinstance(args, str) else json.dumps(args),
                call_id=f"call_{next(self._owner._ids)}",
            )
            for name, args in self._step.calls
        ]
        for piece in self._step.chunks:
            self._send(llm.ChoiceDelta(role="assistant", content=piece))
        self._send(llm.ChoiceDelta(role="assistant", content=self._step.text, tool_calls=calls))

    def _send(self, delta: llm.ChoiceDelta) -> None:
        self._event_ch.send_nowait(
            llm.ChatChunk(id=f"scripted-{next(self._owner._ids)}", delta=delta)
        )
