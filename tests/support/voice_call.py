"""A phone call to the agent through LiveKit's own voice console, with nothing real but audio.

`VoiceConsole` runs a console process (`python -m agent console` by default) the way a
developer would, in a terminal (a pty), with:

- a microphone and a speaker (`tests/support/audio.py`: a private PulseAudio server);
- speech services at local addresses, speaking their real protocols: Deepgram's streaming STT
  (`tests/support/deepgram_standin.py`), OpenAI's TTS (`tests/support/tts_standin.py`), and
  the OpenAI-compatible LLM the typed console tests use (`tests/support/openai_standin.py`),
  reached through `DEEPGRAM_BASE_URL`, `OPENAI_TTS_BASE_URL` and `OPENAI_BASE_URL`;
- a caller that speaks: each line is said by espeak-ng and played into the microphone at real
  time, after telling the STT stand-in the words it will hear (`say`).

The test listens as a caller would: the speaker's monitor is recorded as it plays
(`speaker`), so "the agent answered" is sound arriving and "the agent finished" is a second of
quiet after it. The console's stderr (where the development SMS is printed) is read line by
line (`wait_for_stderr`). `hang_up()` ends the console with Ctrl-C, as a developer does, and
returns LiveKit's session report (`--record`): the conversation as the session saw it, with
interruptions and per-turn metrics.

`python -m tests.support.voice_call` plays the demo call (README, "The voice console with no
keys and no hardware") and prints it as it goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinic import open_records
from tests.support.agent_env import keyless_env, records_url
from tests.support.audio import MICROPHONE, SPEAKER, Tap, VirtualAudio
from tests.support.deepgram_standin import DeepgramStandin
from tests.support.espeak import CALLER_VOICE, speak
from tests.support.openai_standin import OpenAIStandin
from tests.support.tts_standin import OpenAITtsStandin, Spoken

AGENT_CONSOLE = ("-m", "agent", "console")
START_TIMEOUT_SECONDS = 120.0  # a cold start on a busy 2-core machine: imports, models
REPLY_TIMEOUT_SECONDS = 60.0
# The agent has finished speaking after this much quiet (its sentences are played one after
# another with short gaps between them).
QUIET_SECONDS = 1.0
# A brisk pace for both voices (espeak-ng's default is 175): the call takes less real time,
# and Silero and the end-of-turn model still hear speech.
CALLER_WORDS_PER_MINUTE = 210
AGENT_WORDS_PER_MINUTE = 220
# The agent's voice 8 dB below the caller's. The console runs the microphone through an echo
# canceller (WebRTC's, in LiveKit's console) that takes the speaker's signal as the echo to
# remove; at equal levels it takes a caller talking over the agent for that echo and mutes
# them, so no barge-in gets through. At a real phone or laptop the caller's own voice at
# their microphone is louder than the agent's coming back from a speaker, which this keeps.
AGENT_LEVEL = 0.4
TERMINAL_SIZE = (50, 200)  # rows, columns: wide enough that no printed line wraps
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class SpokenOpenAIStandin(OpenAIStandin):
    """The typed console's LLM stand-in, with something to say: when the caller's last words
    contain a trigger from `replies` (and none from `tool_rules`), it answers that sentence.
    Everything else is the stand-in's own (tool calls, relaying a tool's output)."""

    def __init__(
        self,
        replies: Mapping[str, str],
        tool_rules: dict[str, tuple[str, dict[str, Any]]] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(tool_rules=tool_rules, **options)
        self.replies = dict(replies)

    def _answer(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        last = messages[-1]
        said = str(last.get("content") or "")
        if last["role"] == "user" and not any(t in said for t in self.tool_rules):
            for trigger, reply in self.replies.items():
                if trigger in said:
                    return {"role": "assistant", "content": reply}
        return super()._answer(messages)


class VoiceConsole:
    """One console process on its own virtual devices and speech stand-ins (see module doc)."""

    def __init__(
        self,
        directory: Path,
        llm: OpenAIStandin,
        *,
        argv: Sequence[str] = AGENT_CONSOLE,
        show: Callable[[str], None] | None = None,
    ) -> None:
        self.directory = directory
        self.show = show
        self.llm = llm
        self.argv = list(argv)
        self.audio = VirtualAudio(directory / "audio")
        self.stt = DeepgramStandin()
        self.tts = OpenAITtsStandin(words_per_minute=AGENT_WORDS_PER_MINUTE, gain=AGENT_LEVEL)
        self.stderr_lines: list[str] = []
        self.screen = bytearray()
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self._taps = contextlib.ExitStack()
        self.speaker: Tap
        self.microphone: Tap
        self._threads: list[threading.Thread] = []
        self._pty: int | None = None
        self.report: dict[str, Any] | None = None
        # (seconds since the console started, what happened): the call as the caller lived it
        self.timeline: list[tuple[float, str]] = []
        self._shown_speech = 0

    def note(self, what: str, at: float | None = None) -> None:
        moment = time.monotonic() if at is None else at
        self.timeline.append((round(moment - self.started_at, 2), what))
        if self.show is not None:
            self.show(f"{moment - self.started_at:6.2f}s  {what}")

    def environment(self) -> dict[str, str]:
        """No keys; the stand-ins' addresses and the virtual devices instead."""
        return keyless_env(
            self.directory,
            OPENAI_BASE_URL=self.llm.base_url,
            OPENAI_API_KEY="sk-standin",
            OPENAI_TTS_BASE_URL=self.tts.base_url,
            DEEPGRAM_API_KEY="dg-standin",
            DEEPGRAM_BASE_URL=self.stt.base_url,
            **self.audio.env,
        )

    async def __aenter__(self) -> VoiceConsole:
        self.directory.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(self.audio.start)
        for server in (self.llm, self.stt, self.tts):
            await server.start()
        self.speaker = self._taps.enter_context(self.audio.tap(f"{SPEAKER}.monitor"))
        self.microphone = self._taps.enter_context(self.audio.tap(MICROPHONE))
        self._start_process()
        return self

    def _start_process(self) -> None:
        controller, terminal = pty.openpty()
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", *TERMINAL_SIZE, 0, 0))
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, *self.argv, "--record"],
            stdin=terminal,
            stdout=terminal,
            stderr=subprocess.PIPE,
            cwd=self.directory,  # no .env.local here; recordings land here
            env=self.environment(),
        )
        os.close(terminal)
        self._pty = controller
        for target in (self._read_screen, self._read_stderr):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _read_screen(self) -> None:
        assert self._pty is not None
        while True:
            try:
                chunk = os.read(self._pty, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.screen.extend(chunk)

    def _read_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for raw in self.process.stderr:
            self.stderr_lines.append(raw.decode(errors="replace").rstrip("\n"))

    async def __aexit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            await asyncio.to_thread(self.process.wait, 30)
        self._taps.close()
        for server in (self.llm, self.stt, self.tts):
            await server.stop()
        await asyncio.to_thread(self.audio.stop)
        if self._pty is not None:
            os.close(self._pty)
            self._pty = None

    # -- the caller's side ----------------------------------------------------------------

    def _alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the console exited ({self.process.returncode}):\n{self.tail()}")

    async def agent_speaks(self, since: float, timeout: float = REPLY_TIMEOUT_SECONDS) -> float:
        """When the agent's voice reached the speaker after `since` (waits for it)."""
        deadline = time.monotonic() + timeout
        while (heard := self.speaker.first_sound(since)) is None:
            self._alive()
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the agent said nothing within {timeout:.0f} s\n{self.tail()}"
                )
            await asyncio.sleep(0.02)
        self.note("agent speaks", heard)
        return heard

    async def agent_finishes(
        self, since: float, timeout: float = REPLY_TIMEOUT_SECONDS
    ) -> tuple[float, float]:
        """Waits for the agent to speak after `since` and then fall quiet; returns when its
        voice first and last reached the speaker."""
        first = await self.agent_speaks(since, timeout)
        deadline = time.monotonic() + timeout
        while not self.speaker.silent_since(QUIET_SECONDS):
            self._alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"the agent did not stop within {timeout:.0f} s")
            await asyncio.sleep(0.05)
        last = self.speaker.last_sound()
        assert last is not None
        for spoken in self.tts.spoken[self._shown_speech :]:
            self.note(f"agent: {spoken.text}", first)
        self._shown_speech = len(self.tts.spoken)
        self.note("agent quiet", last)
        return first, last

    async def say(self, line: str, heard_as: str | None = None) -> tuple[float, float]:
        """The caller says `line` into the microphone (at real time). The STT stand-in writes
        it as `heard_as` (what Deepgram would: numerals, punctuation), by default `line`.
        Returns when the caller started and stopped speaking (`time.monotonic()`)."""
        self._alive()
        speech = await asyncio.to_thread(
            speak, line, voice=CALLER_VOICE, words_per_minute=CALLER_WORDS_PER_MINUTE
        )
        expected = self.stt.expect(heard_as or line, speech.voiced_seconds)
        started = time.monotonic()
        self.note(f"caller: {line}", started)
        ended = await asyncio.to_thread(self.audio.play, speech)
        expected.played = True
        self.note("caller quiet", ended)
        return started, ended

    def output(self) -> str:
        """What the console has shown in its terminal (escape codes removed), then its stderr.

        Under LiveKit's voice console the two meet: while its live display runs, rich sends
        what is written to stderr (the development SMS, warnings) to the terminal above it."""
        screen = _ANSI.sub("", self.screen.decode(errors="replace"))
        return screen + "\n" + "\n".join(self.stderr_lines)

    async def wait_for_output(
        self, pattern: str, timeout: float = REPLY_TIMEOUT_SECONDS
    ) -> re.Match[str]:
        """The first match of `pattern` in what the console printed (waits for it)."""
        deadline = time.monotonic() + timeout
        compiled = re.compile(pattern)
        while (found := compiled.search(self.output())) is None:
            self._alive()
            if time.monotonic() > deadline:
                raise AssertionError(f"the console never printed {pattern!r}\n{self.tail()}")
            await asyncio.sleep(0.05)
        return found

    async def hang_up(self) -> dict[str, Any]:
        """Ctrl-C, as a developer ends the console; returns the session report it wrote."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        await asyncio.to_thread(self.process.wait, 60)
        reports = sorted((self.directory / "console-recordings").glob("*/session_report.json"))
        if not reports:
            raise AssertionError(f"the console wrote no session report\n{self.tail()}")
        self.report = json.loads(reports[-1].read_text())
        return self.report

    def tail(self, size: int = 3000) -> str:
        """What a developer would look at when the call went wrong."""
        screen = _ANSI.sub("", self.screen[-30000:].decode(errors="replace"))
        lines = list(
            dict.fromkeys(
                line.rstrip() for line in screen.splitlines() if line.strip() and "▁" not in line
            )
        )
        heard = [
            m["channel"]["alternatives"][0]["transcript"]
            for m in self.stt.sent
            if m["type"] == "Results" and m["is_final"]
        ]
        asked = [
            f"{m['role']}: {m.get('content') or m.get('tool_calls')}"
            for m in (r["messages"][-1] for r in self.llm.requests)
        ]
        return "\n".join(
            [
                "--- console (last lines) ---",
                "\n".join(lines[-25:])[-size:],
                "--- stderr ---",
                "\n".join(self.stderr_lines[-30:])[-size:],
                f"--- STT finals: {heard}",
                f"--- LLM last messages: {asked}",
                f"--- TTS said: {[s.text for s in self.tts.spoken]}",
                f"--- timeline: {self.timeline}",
            ]
        )


def messages(report: Mapping[str, Any], role: str) -> list[dict[str, Any]]:
    """The session's messages from `role` ("user" or "assistant"), in order."""
    return [
        item
        for item in report["chat_history"]["items"]
        if item.get("type") == "message" and item.get("role") == role
    ]


def text_of(item: Mapping[str, Any]) -> str:
    return " ".join(part for part in item.get("content", []) if isinstance(part, str))


# -- the demo call: cancel an appointment by voice -------------------------------------------

LONG_ANSWER = (
    "Of course, I can help you cancel an appointment. First I need to find your records, "
    "so please tell me your full name and your date of birth, and I will look you up."
)
TAKE_YOUR_TIME = "Of course, take your time."
DIGIT_WORDS = dict(
    enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
)
# A model that repeats what it should not (the code, the full number): the agent's speech
# filter must keep both out of what is said.
CONFIRM = (
    "Just to confirm, with code {code} from 415 555 0123, you would like me to cancel your "
    "appointment with {provider}?"
)


@dataclass
class CancelledByVoice:
    """What the scripted call left behind, for a test to check."""

    records_url: str
    appointment_id: str
    code: str
    report: dict[str, Any]
    spoken: list[Spoken]  # what the agent said, as the TTS stand-in received it
    stt_sent: list[dict[str, Any]]  # what the STT stand-in answered
    speaker: Tap
    microphone: Tap
    greeting_heard: float  # when the greeting reached the speaker
    long_answer_heard: float  # when the answer the caller talks over reached the speaker
    interruption: tuple[float, float]  # when the caller started and stopped talking over it
    timeline: list[tuple[float, str]]


async def _janes_first_appointment(url: str) -> tuple[str, str]:
    records = open_records(url)
    try:
        await records.load_demo()
        jane = (await records.patients_named("Jane Doe"))[0]
        first = (await records.appointments_for(jane.id))[0]
        return first.id, first.provider
    finally:
        await records.aclose()


async def cancel_by_voice(
    directory: Path, *, show: Callable[[str], None] | None = None
) -> CancelledByVoice:
    """Jane Doe calls the voice console to cancel her first appointment: she asks, talks over
    the agent's long answer, gives her name and date of birth, asks for a code at her number,
    reads back the code the console printed, and confirms (the model, asking her to, repeats
    the code and her number: the agent must not say them)."""
    records = records_url(directory)
    appointment_id, provider = await _janes_first_appointment(records)
    llm = SpokenOpenAIStandin(
        replies={
            "cancel my appointment": LONG_ANSWER,
            # what the caller says over it may reach the STT in pieces (the console's echo
            # canceller mutes the microphone while the agent speaks): any piece gets this
            "Sorry": TAKE_YOUR_TIME,
            "wait": TAKE_YOUR_TIME,
            "moment": TAKE_YOUR_TIME,
        },
        tool_rules={
            "Jane Doe": (
                "verify_identity",
                {"full_name": "Jane Doe", "date_of_birth": "April 12 1985"},
            ),
            "text me a code": ("request_otp", {"patient_phone": "415 555 0123"}),
            "Yes, cancel it": ("cancel_appointment", {"appointment_id": appointment_id}),
        },
    )
    async with VoiceConsole(directory, llm, show=show) as call:
        greeting, _ = await call.agent_finishes(call.started_at, timeout=START_TIMEOUT_SECONDS)

        _, said = await call.say("I'd like to cancel my appointment.")
        long_answer = await call.agent_speaks(said)
        # the caller talks over the long answer
        interruption = await call.say("Sorry, wait a moment please, I need to find my calendar.")
        await call.agent_finishes(interruption[1])

        # (no commas in what the caller says: a pause may end the turn, as it does when a
        # person pauses)
        _, said = await call.say(
            "This is Jane Doe born April twelfth nineteen eighty five",
            heard_as="This is Jane Doe, born April 12, 1985.",
        )
        await call.agent_finishes(said)

        _, said = await call.say(
            "Please text me a code at four one five five five five zero one two three",
            heard_as="Please text me a code at 415 555 0123.",
        )
        # the development SMS, where a developer reads it: the console's terminal
        code = (await call.wait_for_output(r"verification code is (\d{6})")).group(1)
        await call.agent_finishes(said)

        llm.tool_rules["My code is"] = ("verify_otp", {"code": code})
        _, said = await call.say(
            "My code is " + " ".join(DIGIT_WORDS[int(d)] for d in code),
            heard_as=f"My code is {' '.join(code)}.",
        )
        await call.agent_finishes(said)

        llm.replies["Please cancel it"] = CONFIRM.format(code=code, provider=provider)
        _, said = await call.say("Please cancel it.")
        await call.agent_finishes(said)
        _, said = await call.say("Yes, cancel it.")
        await call.agent_finishes(said)
        report = await call.hang_up()
    return CancelledByVoice(
        records_url=records,
        appointment_id=appointment_id,
        code=code,
        report=report,
        spoken=list(call.tts.spoken),
        stt_sent=list(call.stt.sent),
        speaker=call.speaker,
        microphone=call.microphone,
        greeting_heard=greeting,
        long_answer_heard=long_answer,
        interruption=interruption,
        timeline=call.timeline,
    )


def main() -> int:
    """Play the demo call in a folder of its own and show it as it goes."""
    import tempfile

    from tests.support.audio import AudioUnavailable

    directory = Path(tempfile.mkdtemp(prefix="voice-call-"))
    print(f"the call's files (records, recordings, session report): {directory}")
    try:
        call = asyncio.run(cancel_by_voice(directory, show=print))
    except AudioUnavailable as exc:
        print(f"cannot run the voice console here: {exc}", file=sys.stderr)
        return 1
    print(
        f"appointment {call.appointment_id} cancelled; the agent's audio: "
        f"{call.speaker.sound_seconds():.1f} s on the speaker"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
