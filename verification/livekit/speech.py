"""Speech hygiene for a host agent: what the model writes, before anyone hears or keeps it.

One documented way for a host: give the agent a `SpeechHygiene` and let its `llm_node` run
through it. Everything the model writes then passes `verification.hygiene.SpeechFilter`
before text-to-speech says it, the transcript shows it and the chat history keeps it: no
code, no full phone number (your own public numbers are kept), no tool call written as text.
Tool calls the model makes pass on as they are: the tools check their own arguments.

    class MyAgent(Agent):
        def __init__(self) -> None:
            super().__init__(instructions="...", tools=[otp_tools])
            self.speech = SpeechHygiene(allowed_numbers=["+1 415 555 0100"])  # your desk

        def llm_node(self, chat_ctx, tools, model_settings):
            return self.speech.llm_node(self, chat_ctx, tools, model_settings)

A reply that was only tool-call text (small models write the call as JSON once LiveKit's
tool-step cap asks them for a reply without tools) would leave the caller in silence, or
hearing one fallback turn after turn. Instead the caller hears the last tool's own
caller-safe sentence (a toolset with `caller_sentence(call_id)`, such as `OtpToolset`, or
the host's `tool_sentence`), else a short question that moves the call forward, never the
same fallback twice in a row (`questions`: yours, or `DEFAULT_QUESTIONS`).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

from livekit.agents import Agent, FlushSentinel, ModelSettings, llm

from verification.hygiene import SpeechFilter, filter_text

DEFAULT_QUESTIONS = (
    "Sorry, I didn't catch that. Could you say it again?",
    "What would you like to do next?",
    "Would you like me to connect you with a person?",
)

ToolSentence = Callable[[llm.FunctionCallOutput], str | None]
"""The host's caller-safe sentence for one of its own tools' outputs, or None."""


@runtime_checkable
class CallerSentences(Protocol):
    """A toolset that knows what the caller may hear about each of its tool calls."""

    def caller_sentence(self, call_id: str) -> str | None: ...


class SpeechHygiene:
    """One agent's speech rules: the numbers it may say, and what to say when the model's
    reply was only tool-call text. Keep one per agent (it remembers its last fallback)."""

    def __init__(
        self,
        *,
        allowed_numbers: Iterable[str] = (),
        questions: Sequence[str] = DEFAULT_QUESTIONS,
        tool_sentence: ToolSentence | None = None,
        language: str = "en",
    ) -> None:
        if not questions:
            raise ValueError("SpeechHygiene needs at least one question to fall back on")
        self.allowed_numbers = tuple(allowed_numbers)
        self.questions = tuple(questions)
        self.tool_sentence = tool_sentence
        #: the words a hidden number becomes ("that code"); set it when the call's language
        #: changes (the questions are the host's, in its language)
        self.language = language
        self._last_fallback: str | None = None
        self._next_question = 0

    def filter(self, tool_names: Iterable[str] = ()) -> SpeechFilter:
        """A fresh streaming filter for one reply (for hosts that drive their own stream)."""
        return SpeechFilter(self.allowed_numbers, tuple(tool_names), language=self.language)

    async def llm_node(
        self,
        agent: Agent,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool],
        model_settings: ModelSettings,
    ) -> AsyncIterator[llm.ChatChunk | str | FlushSentinel]:
        """`Agent.default.llm_node`, with every piece of text through the filter."""
        every = [*agent.tools, *agent.session.tools]
        names = {tool.id for tool in tools} | set(llm.ToolContext(every).function_tools)
        speech = self.filter(sorted(names))
        called = False
        stream: AsyncIterable[Any] = Agent.default.llm_node(agent, chat_ctx, tools, model_settings)
        async for chunk in stream:
            if isinstance(chunk, str):
                if text := speech.feed(chunk):
                    yield text
            elif isinstance(chunk, llm.ChatChunk) and chunk.delta is not None:
                called = called or bool(chunk.delta.tool_calls)
                if chunk.delta.content:
                    text = speech.feed(chunk.delta.content)
                    delta = chunk.delta.model_copy(update={"content": text or None})
                    chunk = chunk.model_copy(update={"delta": delta})
                yield chunk
            else:
                yield chunk
        if rest := speech.finish():
            yield rest
        if speech.only_tool_call and not called:  # nothing but a tool call written as text
            yield self.fallback(agent, chat_ctx)

    def fallback(self, agent: Agent, chat_ctx: llm.ChatContext) -> str:
        """What the caller hears instead of a reply that was only tool-call text: the last
        tool's own sentence for the caller, else the next question; never the same
        fallback twice in a row."""
        sentence = self._last_tool_sentence(agent, chat_ctx)
        if sentence is not None:
            sentence = filter_text(sentence, self.allowed_numbers, language=self.language).strip()
        if not sentence or sentence == self._last_fallback:
            sentence = self._question()
        self._last_fallback = sentence
        return sentence

    def _question(self) -> str:
        for _ in range(len(self.questions)):
            question = self.questions[self._next_question % len(self.questions)]
            self._next_question += 1
            if question != self._last_fallback:
                return question
        return self.questions[0]

    def _last_tool_sentence(self, agent: Agent, chat_ctx: llm.ChatContext) -> str | None:
        """The caller's sentence for the latest tool output of this turn, if any."""
        for item in reversed(chat_ctx.items):
            if item.type == "message" and item.role == "user":
                return None
            if item.type == "function_call_output":
                return self._caller_sentence(agent, item)
        return None

    def _caller_sentence(self, agent: Agent, output: llm.FunctionCallOutput) -> str | None:
        if self.tool_sentence is not None and (sentence := self.tool_sentence(output)):
            return sentence
        for toolset in (*agent.tools, *agent.session.tools):
            if isinstance(toolset, CallerSentences) and (
                sentence := toolset.caller_sentence(output.call_id)
            ):
                return sentence
        return None
