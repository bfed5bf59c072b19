"""Voice-to-voice latency of the voice console: from the end of the caller's speech to the
agent's first audio, on virtual devices, with every speech service answering at once.

Two consoles take the same caller, one after the other, in the same run: the clinic agent
(`python -m agent console`) and a bare LiveKit agent with no tools, built here with the very
same plugins and options (Deepgram STT, the OpenAI-compatible LLM, OpenAI TTS, Silero VAD,
LiveKit's end-of-turn model, preemptive generation) and run through the same LiveKit console.
Both hear the same five lines from the same espeak-ng caller through a private PulseAudio
server; the stand-ins (`tests/support/voice_call.py`) answer at once, so what is left is the
pipeline's own time: detecting the end of the turn, the STT final, the LLM's first token, the
tools, the TTS's first byte, and the audio devices' buffers.

For each turn it prints:

* mouth-to-ear: the caller's last loud 10 ms on the microphone to the agent's first on the
  speaker, both recorded from PulseAudio on one clock (what a caller would hear);
* LiveKit's own split, from the session report (`--record`): `end_of_turn_delay` (VAD end of
  speech to the turn being committed: the end-of-turn model's wait), `transcription_delay`
  (end of speech to the STT final), `llm_node_ttft` of the generation that speaks, the tool
  round (a tool turn, from the committed turn to the last tool output: what the first LLM call
  had left to do, since preemptive generation may start it before the commit, and the tool
  itself, from the items' `created_at`), `tts_node_ttfb`, and `e2e_latency` (end of speech to
  playback start);
* pipeline: e2e less the end-of-turn wait and the TTS stand-in's own time (below), i.e. from
  the committed turn to the agent's first audio frame: the LLM, tool and TTS work the
  pipeline does once it knows the caller is done, less what the stand-in spent synthesizing;
* devices: mouth-to-ear minus LiveKit's e2e (PulseAudio and PortAudio buffers on both sides);
* overhead: pipeline plus devices, i.e. mouth-to-ear less the two waits that are not the
  pipeline's: the end-of-turn model (the same model and settings in both agents; on
  espeak-ng's flat voice it ends a turn after 0.58 s or waits the full 2.5 s, line by line,
  which would otherwise swamp everything else) and the TTS stand-in;
* tts_standin: the TTS stand-in's own time to its first byte (espeak-ng and the encoder),
  part of `tts_node_ttfb`, not of the pipeline.

Then the medians per agent, and the clinic agent's pipeline and overhead over the bare
agent's, paired line by line.

    uv run python bench/voice_latency.py [--pairs 2]

Needs what the voice tests need: PulseAudio, PortAudio with ALSA's PulseAudio plugin, and
espeak-ng (`.ci/run` installs them; README, "The voice console with no keys and no
hardware").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.voice_call import (
    START_TIMEOUT_SECONDS,
    SpokenOpenAIStandin,
    VoiceConsole,
    messages,
)

THIS_FILE = Path(__file__).resolve()
GREETING = "Thank you for calling. How can I help you today?"
# (what the caller says, what the STT writes, the clinic agent's tool for it or None)
LINES: list[tuple[str, str, tuple[str, dict[str, Any]] | None]] = [
    ("I'd like to cancel my appointment", "I'd like to cancel my appointment.", None),
    (
        "This is Jane Doe born April twelfth nineteen eighty five",
        "This is Jane Doe, born April 12, 1985.",
        ("verify_identity", {"full_name": "Jane Doe", "date_of_birth": "April 12 1985"}),
    ),
    ("Which appointments do I have", "Which appointments do I have?", ("list_appointments", {})),
    ("What time do you open tomorrow", "What time do you open tomorrow?", None),
    ("Thank you goodbye", "Thank you, goodbye.", None),
]
REPLY = "Sure, I can help with that."
STAGES = (
    "end_of_turn",
    "stt_final",
    "llm_ttft",
    "tool_round",
    "tts_ttfb",
    "tts_standin",
    "e2e",
    "pipeline",
    "devices",
    "overhead",
)


@dataclass
class Turn:
    line: str
    tool: bool
    mouth_to_ear: float
    stages: dict[str, float] = field(default_factory=dict)


# -- the bare agent: what LiveKit's quick start builds, with our plugins' settings ------------


def run_bare_agent(argv: list[str]) -> None:
    """LiveKit's console on an agent with no tools (runs in the console's own process)."""
    from livekit.agents import (
        Agent,
        AgentServer,
        AgentSession,
        JobContext,
        JobProcess,
        TurnHandlingOptions,
        cli,
    )
    from livekit.plugins import deepgram, openai, silero

    def prewarm(proc: JobProcess) -> None:
        proc.userdata["vad"] = silero.VAD.load()

    server = AgentServer(setup_fnc=prewarm)

    @server.rtc_session()
    async def entrypoint(ctx: JobContext) -> None:
        session: AgentSession[None] = AgentSession(
            vad=ctx.proc.userdata["vad"],
            stt=deepgram.STT(
                model="nova-3",
                numerals=True,
                mip_opt_out=True,
                base_url=f"{os.environ['DEEPGRAM_BASE_URL']}/listen",
            ),
            llm=openai.LLM(model="gpt-4.1-mini", base_url=os.environ["OPENAI_BASE_URL"]),
            tts=openai.TTS(
                model="gpt-4o-mini-tts", voice="ash", base_url=os.environ["OPENAI_TTS_BASE_URL"]
            ),
            turn_handling=TurnHandlingOptions(preemptive_generation={"enabled": True}),
        )
        await session.start(Agent(instructions="You answer a clinic's phone."), room=ctx.room)
        session.say(GREETING)

    sys.argv = [sys.argv[0], *argv]
    cli.run_app(server)


# -- one console, five turns ----------------------------------------------------------------


async def one_session(directory: Path, *, bare: bool) -> list[Turn]:
    replies = {heard: REPLY for _, heard, _ in LINES}
    tools = {} if bare else {heard: tool for _, heard, tool in LINES if tool is not None}
    llm = SpokenOpenAIStandin(replies=replies, tool_rules=tools)
    argv = (
        [str(THIS_FILE), "--bare-agent", "console", "--log-level", "WARN"]
        if bare
        else ["-m", "agent", "console"]
    )
    caller_ends: list[float] = []
    heard_at: list[float] = []
    synthesis: list[float] = []
    async with VoiceConsole(directory, llm, argv=argv) as call:
        await call.agent_finishes(call.started_at, timeout=START_TIMEOUT_SECONDS)
        for spoken, heard, _ in LINES:
            started, ended = await call.say(spoken, heard_as=heard)
            already = len(call.tts.spoken)
            first, _ = await call.agent_finishes(ended)
            # the stand-in's time for the reply's first sentence (its first byte's wait)
            synthesis.append(call.tts.spoken[already].synthesis_seconds)
            caller_ends.append(call.microphone.last_sound_before(ended + 0.5, since=started))
            heard_at.append(first)
        report = await call.hang_up()
    return _turns(report, caller_ends, heard_at, synthesis, bare=bare)


def _turns(
    report: dict[str, Any],
    caller_ends: list[float],
    heard_at: list[float],
    synthesis: list[float],
    *,
    bare: bool,
) -> list[Turn]:
    users = messages(report, "user")
    if len(users) != len(LINES):
        said = [" ".join(m.get("content", [])) for m in users]
        raise RuntimeError(f"expected {len(LINES)} caller turns, the session has {said}")
    items = report["chat_history"]["items"]
    turns = []
    for index, (line, _, tool) in enumerate(LINES):
        user = users[index]
        after = items[items.index(user) + 1 :]
        reply = next(i for i in after if i.get("type") == "message")
        outputs = [i for i in after[: after.index(reply)] if i["type"] == "function_call_output"]
        heard, answered = user.get("metrics", {}), reply.get("metrics", {})
        nan = float("nan")
        end_of_turn = heard.get("end_of_turn_delay", nan)
        # the turn is committed end_of_turn_delay after the VAD's end of speech; with
        # preemptive generation the first LLM call may have run before that
        committed = heard.get("stopped_speaking_at", nan) + end_of_turn
        turn = Turn(line, tool is not None and not bare, heard_at[index] - caller_ends[index])
        turn.stages = {
            "end_of_turn": end_of_turn,
            "stt_final": heard.get("transcription_delay", nan),
            "llm_ttft": answered.get("llm_node_ttft", nan),
            "tool_round": max(outputs[-1]["created_at"] - committed, 0.0) if outputs else 0.0,
            "tts_ttfb": answered.get("tts_node_ttfb", nan),
            "e2e": answered.get("e2e_latency", nan),
        }
        turn.stages["tts_standin"] = synthesis[index]
        turn.stages["pipeline"] = turn.stages["e2e"] - end_of_turn - synthesis[index]
        turn.stages["devices"] = turn.mouth_to_ear - turn.stages["e2e"]
        turn.stages["overhead"] = turn.stages["pipeline"] + turn.stages["devices"]
        turns.append(turn)
    return turns


# -- the report -----------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return "   -" if seconds != seconds else f"{seconds * 1000:5.0f}"  # NaN: not reported


def _print_turns(name: str, turns: list[Turn]) -> None:
    print(f"\n{name}: per turn, ms")
    print(f"  {'line':44} {'mouth-to-ear':>12} " + " ".join(f"{s:>11}" for s in STAGES))
    for turn in turns:
        stages = " ".join(f"{_ms(turn.stages[s]):>11}" for s in STAGES)
        line = turn.line[:37] + (" (tool)" if turn.tool else "")
        print(f"  {line:44} {_ms(turn.mouth_to_ear):>12} {stages}")


def _median(values: list[float]) -> float:
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def summarize(bare: list[Turn], clinic: list[Turn]) -> None:
    _print_turns("bare LiveKit agent (no tools)", bare)
    _print_turns("clinic agent", clinic)
    print("\nmedians, ms")
    print(f"  {'':26} {'mouth-to-ear':>12} " + " ".join(f"{s:>11}" for s in STAGES))
    for name, turns in (
        ("bare agent", bare),
        ("clinic agent, all turns", clinic),
        ("clinic agent, plain turns", [t for t in clinic if not t.tool]),
        ("clinic agent, tool turns", [t for t in clinic if t.tool]),
    ):
        stages = " ".join(f"{_ms(_median([t.stages[s] for t in turns])):>11}" for s in STAGES)
        print(f"  {name:26} {_ms(_median([t.mouth_to_ear for t in turns])):>12} {stages}")
    print(
        "\nclinic over bare, the same line (paired; left out: the end-of-turn model's wait, the "
        "same model in both, and the TTS stand-in's own time):"
    )
    for label, kinds in (
        ("all turns", (False, True)),
        ("plain turns", (False,)),
        ("tool turns", (True,)),
    ):
        pairs = [(c, b) for c, b in zip(clinic, bare, strict=True) if c.tool in kinds]
        if not pairs:
            continue
        for stage, what in (
            ("pipeline", "pipeline: committed turn to first audio frame"),
            ("overhead", "+ devices: mouth-to-ear less the two waits"),
        ):
            extra = _median([c.stages[stage] - b.stages[stage] for c, b in pairs])
            ours = _median([c.stages[stage] for c, _ in pairs])
            theirs = _median([b.stages[stage] for _, b in pairs])
            print(
                f"  {label:12} {what:47} {extra * 1000:+5.0f} ms median "
                f"(clinic {ours * 1000:.0f} ms, bare {theirs * 1000:.0f} ms)"
            )


async def run(pairs: int) -> None:
    bare: list[Turn] = []
    clinic: list[Turn] = []
    with tempfile.TemporaryDirectory(prefix="voice-latency-") as directory:
        for index in range(pairs):
            # alternate, so the machine's moods fall on both
            bare += await one_session(Path(directory) / f"bare-{index}", bare=True)
            clinic += await one_session(Path(directory) / f"clinic-{index}", bare=False)
            print(f"pair {index + 1} of {pairs} done", file=sys.stderr, flush=True)
    summarize(bare, clinic)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--bare-agent":
        run_bare_agent(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=2, help="bare + clinic sessions, each")
    args = parser.parse_args()
    from tests.support.audio import audio_problem
    from tests.support.espeak import espeak_problem

    if (problem := audio_problem() or espeak_problem()) is not None:
        print(f"voice_latency: {problem}", file=sys.stderr)
        return 1
    print(f"voice_latency: {args.pairs} pairs of sessions, {len(LINES)} turns each")
    asyncio.run(run(args.pairs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
