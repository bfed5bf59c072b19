"""Tool schemas built once (`with_prebuilt_schemas`): the model is sent byte for byte what
LiveKit would have built on every request, and the tools still run and validate exactly as
before. Checked on LiveKit's own provider formatter, on the wire (the real OpenAI plugin
talking to a local OpenAI-compatible stand-in), and through a real AgentSession."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import pytest
from livekit.agents import Agent, AgentSession, RunContext, RunResult, function_tool, llm
from livekit.agents.llm.tool_context import find_function_tools

from tests.support.constants import PEPPER
from tests.support.conversation import tool_output
from tests.support.openai_standin import OpenAIStandin
from tests.support.scripted_llm import ScriptedLLM
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpService, SqliteOtpStore
from verification.livekit import OtpToolset, with_prebuilt_schemas


class Color(Enum):
    RED = "red"
    BLUE = "blue"


class ShopAgent(Agent):
    """A host agent with the argument shapes tools use: required and defaulted, optional,
    literal, enum, list, number, and a tool with no arguments."""

    def __init__(self, *, prebuilt: bool) -> None:
        super().__init__(instructions="Sell things.")
        self.prebuilt = prebuilt
        self.calls: list[tuple[str, int, str | None]] = []

    async def on_enter(self) -> None:
        if self.prebuilt:
            await self.update_tools(with_prebuilt_schemas(self.tools))

    @function_tool
    async def order(
        self,
        context: RunContext[Any],
        item: str,
        count: int = 1,
        note: str | None = None,
        size: Literal["small", "large"] = "small",
        color: Color = Color.RED,
        extras: list[str] | None = None,
        budget: float | None = None,
    ) -> str:
        """Order an item.

        Args:
            item: the item's name
            count: how many
            note: for the packer
        """
        assert context.session is not None  # the session's context still reaches the tool
        self.calls.append((item, count, note))
        return f"Ordered {count} {size} {color.value} {item}."

    @function_tool
    async def basket(self) -> str:
        """What is in the basket."""
        return f"{len(self.calls)} orders."


def wire(tools: Sequence[llm.Tool | llm.Toolset], fmt: str, strict: bool) -> str:
    """The tools JSON LiveKit's provider formatter makes for one request."""
    ctx = llm.ToolContext(list(tools))
    if fmt == "openai.responses":
        return json.dumps(ctx.parse_function_tools("openai.responses"))
    return json.dumps(ctx.parse_function_tools("openai", strict=strict))


@pytest.fixture
async def otp(tmp_path: Path) -> AsyncIterator[OtpService]:
    service = OtpService(
        SqliteOtpStore(tmp_path / "otp.sqlite3"), RecordingSmsSender(), StaticDirectory(set()),
        pepper=PEPPER,
    )  # fmt: skip
    yield service
    await service.aclose()


@pytest.mark.parametrize(
    ("fmt", "strict"), [("openai", True), ("openai", False), ("openai.responses", False)]
)
def test_a_hosts_tools_are_sent_byte_for_byte_as_livekit_builds_them(
    fmt: str, strict: bool
) -> None:
    tools = ShopAgent(prebuilt=False).tools
    prebuilt = with_prebuilt_schemas(tools, strict=strict)

    assert all(isinstance(tool, llm.RawFunctionTool) for tool in prebuilt)
    assert wire(prebuilt, fmt, strict) == wire(tools, fmt, strict)


@pytest.mark.parametrize("strict", [True, False])
async def test_the_toolsets_tools_are_sent_as_livekit_builds_them(
    otp: OtpService, strict: bool
) -> None:
    toolset = OtpToolset(otp, session_id="schemas", strict_schemas=strict)
    livekits_own = find_function_tools(toolset)  # the methods, as LiveKit finds them

    assert {t.info.name for t in livekits_own} == {"request_otp", "verify_otp"}
    assert all(isinstance(tool, llm.RawFunctionTool) for tool in toolset.tools)
    assert wire([toolset], "openai", strict) == wire(livekits_own, "openai", strict)


async def test_the_openai_plugin_sends_the_same_tools_json(otp: OtpService) -> None:
    """On the wire: the real OpenAI plugin's request body, to a local stand-in."""
    from livekit.plugins import openai

    sent: list[str] = []
    for prebuilt in (False, True):
        standin = OpenAIStandin()
        await standin.start()
        try:
            model = openai.LLM(model="standin", base_url=standin.base_url, api_key="unused")
            agent = ShopAgent(prebuilt=prebuilt)
            toolset = OtpToolset(otp, session_id=f"wire-{prebuilt}")
            # LiveKit's own tools for the toolset's methods, for comparison
            tools: list[llm.Tool | llm.Toolset] = (
                [toolset] if prebuilt else list(find_function_tools(toolset))
            )
            async with AgentSession[None](llm=model, tools=tools) as session:
                await session.start(agent)
                await session.run(user_input="Hello")
        finally:
            await standin.stop()
        [request] = standin.requests
        sent.append(json.dumps(request["tools"]))
    assert sent[0] == sent[1]
    assert len(json.loads(sent[0])) == 4


async def run_order(prebuilt: bool, arguments: str) -> tuple[tuple[str, bool], ShopAgent]:
    scripted = ScriptedLLM()
    agent = ShopAgent(prebuilt=prebuilt)
    async with AgentSession[None](llm=scripted) as session:
        await session.start(agent)
        scripted.call_raw("order", arguments)
        result: RunResult[None] = await session.run(user_input="Order it")
        if prebuilt:
            assert all(isinstance(t, llm.RawFunctionTool) for t in scripted.tools_seen[-1])
    return tool_output(result, "order"), agent


@pytest.mark.parametrize(
    "arguments",
    [
        '{"item": "socks", "count": 3, "note": null, "size": "large", "color": "blue"}',
        '{"item": "socks", "count": "3"}',  # coerced as before
        '{"item": "socks", "count": null, "size": null, "color": null}',  # strict "default"
    ],
)
async def test_good_arguments_run_the_tool_as_before(arguments: str) -> None:
    before, old_agent = await run_order(False, arguments)
    after, new_agent = await run_order(True, arguments)
    assert after == before and not after[1]
    assert new_agent.calls == old_agent.calls != []


@pytest.mark.parametrize(
    "arguments",
    [
        '{"count": 2}',  # the required item missing
        '{"item": "socks", "count": "many"}',
        '{"item": "socks", "size": "huge"}',
        '{"item": "socks", "color": "green"}',
        '{"item": ["socks"]}',
        '{"item": "socks", "budget": "lots"}',
    ],
)
async def test_bad_arguments_fail_exactly_as_before(arguments: str) -> None:
    before, old_agent = await run_order(False, arguments)
    after, new_agent = await run_order(True, arguments)
    assert after == before and after[1]  # the same ToolError text for the model
    assert after[0].startswith("Error parsing arguments for `order`")
    assert old_agent.calls == new_agent.calls == []
