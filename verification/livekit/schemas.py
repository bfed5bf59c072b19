"""Tool schemas built once per tool, instead of on every LLM request.

livekit-agents 1.8 turns each `FunctionTool` into its JSON schema on every request it sends
(a pydantic model from the signature, then a strict schema: `llm.utils.build_strict_openai_schema`),
and a tool turn makes two requests. A `RawFunctionTool` is sent as the schema it carries. So
`with_prebuilt_schemas` builds each tool's schema once, with LiveKit's own builder, and hands
the model a raw tool holding it: the JSON on the wire is byte for byte what LiveKit would
have sent (`tests/plugin/test_schemas.py`). When the model calls the tool, the raw tool
validates the arguments with the original tool's own rules (`prepare_function_arguments`,
the same call LiveKit makes) and runs it, so a bad argument fails exactly as before, with
the same `ToolError`. No LiveKit code is patched.

    tools = with_prebuilt_schemas([*agent.tools, toolset])     # e.g. in on_enter
    await agent.update_tools(tools)

`strict` must match what the LLM sends: True for `openai.LLM` and LiveKit inference (their
default), False for LLMs that send non-strict schemas (`openai.LLM.with_cerebras`, ...) and
for the OpenAI Responses API. Other providers (Google, Anthropic, AWS) read a raw tool's
schema their own way; use this with the OpenAI formats.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from livekit.agents import RunContext, function_tool, llm
from livekit.agents.llm.utils import (
    build_legacy_openai_schema,
    build_strict_openai_schema,
    prepare_function_arguments,
)

# Built schemas by the function a tool wraps: every agent (or toolset) binds its own copy of
# a method tool, all with the same schema, so each is built once per process, not per call.
# A tool made on the fly (a closure) is simply built, and forgotten with its function.
_BUILT: weakref.WeakKeyDictionary[Callable[..., Any], dict[tuple[Any, ...], dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)


def _schema(tool: llm.FunctionTool[..., Any], strict: bool) -> dict[str, Any]:
    """LiveKit's own schema for `tool` (its "function" part), built once per function."""
    info = tool.info
    key = (strict, info.name, info.description, str(inspect.signature(tool)))
    # the function the tool wraps (LiveKit's tools carry it as `__wrapped__`)
    function: Callable[..., Any] = getattr(tool, "__wrapped__", tool)
    built = _BUILT.setdefault(function, {})
    if key not in built:
        whole = build_strict_openai_schema(tool) if strict else build_legacy_openai_schema(tool)
        built[key] = whole["function"]
    return built[key]


def prebuilt_tool(
    tool: llm.FunctionTool[..., Any], *, strict: bool = True
) -> llm.RawFunctionTool[..., Any]:
    """`tool` with its schema built now, once: same name, flags and duplicate handling."""
    schema = _schema(tool, strict)
    info = tool.info

    async def run(raw_arguments: dict[str, Any], context: RunContext[Any]) -> Any:
        args, kwargs = prepare_function_arguments(
            fnc=tool, json_arguments=raw_arguments, call_ctx=context
        )
        return await tool(*args, **kwargs)

    run.__name__ = run.__qualname__ = info.name
    run.__doc__ = info.description
    return function_tool(
        run,
        raw_schema=schema,
        flags=info.flags,
        on_duplicate=info.on_duplicate,
        duplicate_scope=info.duplicate_scope,
    )


def with_prebuilt_schemas(
    tools: Iterable[llm.Tool | llm.Toolset], *, strict: bool = True
) -> list[llm.Tool | llm.Toolset]:
    """`tools` with every `FunctionTool` replaced by `prebuilt_tool(tool)`; raw tools,
    provider tools and toolsets pass unchanged (a toolset keeps its own tools and its
    lifecycle; `OtpToolset` prebuilds its own)."""
    return [
        prebuilt_tool(tool, strict=strict) if isinstance(tool, llm.FunctionTool) else tool
        for tool in tools
    ]
