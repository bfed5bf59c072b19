"""Print what a tool turn costs in the agent itself: ClinicAgent against a bare LiveKit agent
with one tool, and a long call (40 turns of history) against a short one (5).

A tool turn is the caller's words, the model calling `find_open_slots`, the tool, the model
relaying its output: two LLM requests. Both agents run in the same `AgentSession` machinery
(text only, no STT or TTS), their tool does the same work (`open_slots` on the same SQLite
records, the same sentence), so what differs is the agent around it: its instructions and
nine tools, `llm_node` (the bounded context, the speech filter), the tools' checks and
metrics, the OTP toolset. The model does no thinking:

* scripted: `tests/support/scripted_llm.py` answers in-process, so the figure is the
  session's and the agent's own work alone;
* OpenAI plugin: the real `openai.LLM` (LiveKit's request building, the OpenAI SDK, which
  walks the whole request body on every request, httpx, the streamed answer) talking HTTP to
  `tests/support/openai_standin.py`, which runs in a process of its own as a model server
  would. This is the figure a caller waits for, minus the model's thinking.

Each figure is the median over the turns with 5 to 8 turns of history (a short call) or 40 to
43 (a long one) in one call, then the median over `--rounds` rounds; the agents take turns
round by round, and ratios are taken within each round. "wall" is elapsed time per turn,
"CPU" the event loop thread's own CPU time (`time.thread_time`), which a busy machine
disturbs less. The characters are the request the OpenAI plugin builds (messages and tools as
JSON) for the last request of the turn: what the model is sent, against what the whole
history would be (the agent's own chat context, as LiveKit would send it).

    uv run python bench/turn_overhead.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from livekit.agents import Agent, AgentSession, RunContext, function_tool, llm  # noqa: E402

from agent import CallOptions, CallState, ClinicAgent, Services  # noqa: E402
from agent.speech import say_time  # noqa: E402
from clinic import ClinicDB  # noqa: E402
from tests.support.openai_standin import OpenAIStandin  # noqa: E402
from tests.support.scripted_llm import ScriptedLLM  # noqa: E402
from tests.support.sms import RecordingSmsSender  # noqa: E402
from tests.support.stats import paired_ratio  # noqa: E402
from verification import OtpService, SqliteOtpStore  # noqa: E402

TOOL = "find_open_slots"
CALLER_SAYS = "Are there any open times {}?"
TRIGGER = "open times"
SHORT = range(5, 9)  # turns of history before the measured turn
LONG = range(40, 44)
PEPPER = b"turn-overhead-bench-pepper-0123456789"


class BareAgent(Agent):
    """A LiveKit agent as small as it gets: one line of instructions, one tool."""

    def __init__(self, clinic: ClinicDB) -> None:
        super().__init__(instructions="You answer the phone for a clinic.")
        self.clinic = clinic

    @function_tool
    async def find_open_slots(self, context: RunContext[Any]) -> str:
        """Find open appointment times."""
        slots = await self.clinic.open_slots(limit=6)
        return "\n".join(f"{s.id}: {s.provider}, {say_time(s.starts_at)}" for s in slots)


@dataclass
class Turns:
    """Per measured turn: wall seconds, loop CPU seconds, characters sent, whole history."""

    wall: dict[int, float] = field(default_factory=dict)
    cpu: dict[int, float] = field(default_factory=dict)
    sent: dict[int, int] = field(default_factory=dict)
    whole: dict[int, int] = field(default_factory=dict)

    def median(self, what: str, turns: range) -> float:
        values: dict[int, float] = getattr(self, what)
        return statistics.median(values[t] for t in turns)


def request_chars(chat_ctx: llm.ChatContext, tools: list[llm.Tool]) -> int:
    """The messages and tools of one request as the OpenAI plugin builds them, as JSON."""
    messages, _ = chat_ctx.to_provider_format("openai")
    schemas = llm.ToolContext(tools).parse_function_tools("openai", strict=True)
    return len(json.dumps({"messages": messages, "tools": schemas}, separators=(",", ":")))


def whole_history(session: AgentSession[Any]) -> llm.ChatContext:
    """What the turn's last request would have held without a bound: the agent's own chat
    context (the whole call) up to the reply that request produced."""
    items = session.current_agent.chat_ctx.copy().items
    if items and items[-1].type == "message" and items[-1].role == "assistant":
        items = items[:-1]
    return llm.ChatContext(items)


class Bench:
    def __init__(self, clinic: ClinicDB, otp: OtpService, model_url: str) -> None:
        self.clinic = clinic
        self.otp = otp
        self.model_url = model_url

    def agent(self, kind: str) -> Agent:
        return (
            ClinicAgent(clinic_name="Bayview Clinic")
            if kind == "clinic"
            else BareAgent(self.clinic)
        )

    def model(self, kind: str) -> llm.LLM[Any]:
        if kind == "scripted":
            return ScriptedLLM()
        from livekit.plugins import openai

        return openai.LLM(model="standin", base_url=self.model_url, api_key="unused")

    @asynccontextmanager
    async def session(self, agent: str, model: llm.LLM[Any]) -> AsyncIterator[AgentSession[Any]]:
        state = CallState(
            services=Services(clinic=self.clinic, otp=self.otp, options=CallOptions()),
            session_id=f"bench-{time.monotonic_ns()}",
        )
        async with AgentSession[CallState](llm=model, userdata=state) as session:
            await session.start(self.agent(agent))
            yield session

    async def call(self, agent: str, model_kind: str, turns: int, measured: set[int]) -> Turns:
        """One call of `turns` tool turns; the turns in `measured` (by history) are timed."""
        model = self.model(model_kind)
        scripted = model if isinstance(model, ScriptedLLM) else None
        found = Turns()
        async with self.session(agent, model) as session:
            for history in range(turns):
                if scripted is not None:
                    scripted.call(TOOL)
                wall, cpu = time.perf_counter(), time.thread_time()
                await session.run(user_input=CALLER_SAYS.format(history + 1))
                if history not in measured:
                    continue
                found.wall[history] = time.perf_counter() - wall
                found.cpu[history] = time.thread_time() - cpu
                if scripted is not None:
                    tools = scripted.tools_seen[-1]
                    found.sent[history] = request_chars(scripted.requests[-1], tools)
                    found.whole[history] = request_chars(whole_history(session), tools)
        return found


@asynccontextmanager
async def model_server() -> AsyncIterator[str]:
    """The OpenAI stand-in in a process of its own; yields its base URL."""
    server = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve-model",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert server.stdout is not None and server.stdin is not None
    try:
        yield (await server.stdout.readline()).decode().strip()
    finally:
        server.stdin.close()
        await server.wait()


async def serve_model() -> None:
    standin = OpenAIStandin(tool_rules={TRIGGER: (TOOL, {})})
    await standin.start()
    print(standin.base_url, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until closed
    await standin.stop()


def ms(value: float) -> str:
    return f"{value * 1e3:6.1f} ms"


async def main(rounds: int) -> None:
    print(f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="turn-overhead-") as tmp:
        clinic = ClinicDB(Path(tmp) / "clinic.sqlite3")
        await clinic.load_demo()
        sms = RecordingSmsSender()
        otp = OtpService(SqliteOtpStore(Path(tmp) / "otp.sqlite3"), sms, clinic, pepper=PEPPER)
        async with model_server() as url:
            bench = Bench(clinic, otp, url)
            results: dict[tuple[str, str], list[Turns]] = {}
            short, long = set(SHORT), set(SHORT) | set(LONG)
            for _ in range(rounds + 1):  # the first round warms up, and is not counted
                for model in ("scripted", "openai"):
                    for agent, turns, measured in (
                        ("bare", SHORT.stop, short),
                        ("clinic", LONG.stop, long),
                    ):
                        found = await bench.call(agent, model, turns, measured)
                        results.setdefault((agent, model), []).append(found)
        await otp.aclose()
        await clinic.aclose()
    print(f"load average at end {os.getloadavg()[0]:.1f}; {rounds} rounds")
    report(results)


def report(results: dict[tuple[str, str], list[Turns]]) -> None:
    def per_round(agent: str, model: str, what: str, turns: range) -> list[float]:
        return [found.median(what, turns) for found in results[(agent, model)][1:]]

    print("\none tool turn (two LLM requests), median of the rounds:")
    print(f"{'model':<16}{'':<6}{'bare, 5':>12}{'clinic, 5':>12}{'clinic, 40':>12}"
          f"{'clinic/bare':>13}{'40/5':>8}")  # fmt: skip
    for model, label in (("scripted", "scripted"), ("openai", "OpenAI plugin")):
        for what in ("wall", "cpu"):
            base = per_round("bare", model, what, SHORT)
            short = per_round("clinic", model, what, SHORT)
            long = per_round("clinic", model, what, LONG)
            print(
                f"{label:<16}{what:<6}{ms(statistics.median(base)):>12}"
                f"{ms(statistics.median(short)):>12}{ms(statistics.median(long)):>12}"
                f"{paired_ratio(short, base):>12.2f}x{paired_ratio(long, short):>7.2f}x"
            )
    print("\ncharacters per request the model is sent (messages + tools, as JSON):")
    clinic = results[("clinic", "scripted")][-1]
    bare = results[("bare", "scripted")][-1]
    for label, turns in (("5 turns", SHORT), ("40 turns", LONG)):
        sent, whole = clinic.median("sent", turns), clinic.median("whole", turns)
        print(
            f"  ClinicAgent, {label:<9} sent {sent:8,.0f}   whole history {whole:8,.0f}"
            f"   ({sent / whole:.2f}x)"
        )
    print(f"  bare agent,  5 turns   sent {bare.median('sent', SHORT):8,.0f}")


def cli() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--serve-model", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_model:
        asyncio.run(serve_model())
        return 0
    logging.basicConfig(level=logging.ERROR)  # the calls' own records are not measured
    asyncio.run(main(args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(cli())
