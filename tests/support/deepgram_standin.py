"""A local Deepgram streaming speech-to-text server, for the voice console offline.

It speaks Deepgram's live protocol (`wss://api.deepgram.com/v1/listen`, the one
`livekit-plugins-deepgram` uses), so the agent's own `deepgram.STT` talks to it unchanged,
pointed here by `DEEPGRAM_BASE_URL` (the plugin's public `base_url` argument):

- the query string sets the audio (`encoding=linear16`, `sample_rate`, `channels`) and the
  options that shape the answers: `interim_results`, `vad_events`, `endpointing` (ms),
  `utterance_end_ms`;
- binary messages are audio; text messages are `KeepAlive`, `Finalize` and `CloseStream`;
- answers are JSON: `SpeechStarted` when speech begins (with `vad_events`), `Results` with
  `is_final: false` while words arrive (with `interim_results`), `Results` with
  `is_final: true, speech_final: true` when a pause ends the speech (endpointing), or
  `is_final: true, from_finalize: true` after a `Finalize`, `UtteranceEnd` after
  `utterance_end_ms` of silence past the last word, and `Metadata` when the stream closes;
- `GET /v1/projects` answers the agent's start-up key check (401 for a key it refuses).

What it cannot do is understand speech, so it is told what each utterance says: the caller
announces a line (`expect(text, seconds)`) just before playing it, and the next utterance the
stand-in hears is given those words. It hears an utterance as audio does: speech starts at the
first loud 10 ms block and a pause is `max(endpointing, MIN_PAUSE_MS)` of quiet. Words come
out as the audio carrying them arrives: word i of a line is "said" once the utterance has run
the share of the line's duration its letters take, so interim results grow, a pause mid-line
finalizes the words said so far, and the rest comes in the next segment, as with Deepgram.
Audio that arrives with no line announced (noise, an echo) is heard as speech with an empty
transcript, which is what Deepgram answers for sound without words.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiohttp import WSMsgType, web

from tests.support.http_standin import LocalHttpServer

# Quiet shorter than this is inside or between words of espeak-ng's speech (stop consonants,
# commas); Deepgram's model tells those from the end of a phrase, an energy gate cannot.
MIN_PAUSE_MS = 300
# RMS of int16 samples above which a 10 ms block is speech (espeak-ng's speech: thousands).
SPEECH_RMS = 300.0
INTERIM_EVERY = 0.25  # seconds of audio between interim results
SECONDS_PER_WORD = 0.34  # espeak-ng at 175 words a minute, when a line has no duration
MODEL_INFO = {"name": "general-nova-3", "version": "2025-01-01.0", "arch": "nova-3"}


@dataclass
class Line:
    """One announced utterance: its words and how long its audio lasts."""

    text: str
    seconds: float
    # set by the caller once the line's last sample has been played: whatever of it has not
    # been finalized comes at the next pause (the console's echo canceller may have muted
    # parts of it, so the audio alone cannot say when the line is over)
    played: bool = False
    words: list[str] = field(init=False)
    ends: list[float] = field(init=False)  # when each word is over, in seconds into the line

    def __post_init__(self) -> None:
        self.words = self.text.split()
        letters = np.cumsum([len(re.sub(r"\W", "", w)) or 1 for w in self.words])
        total = float(letters[-1]) if len(letters) else 1.0
        self.ends = [self.seconds * float(n) / total for n in letters]


@dataclass
class _Stream:
    """One WebSocket connection: its audio clock and the phrase being heard."""

    sample_rate: int
    channels: int
    interim: bool
    vad_events: bool
    pause: float
    utterance_end: float | None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    received: float = 0.0  # seconds of audio so far
    line: Line | None = None  # the line being heard (or the last one)
    line_start: float = 0.0
    said: int = 0  # words of the line already finalized
    speaking: bool = False
    segment_start: float = 0.0
    last_sound: float = 0.0
    last_interim: float = 0.0
    last_word_end: float | None = None
    utterance_end_sent: bool = True
    pending: bytes = b""


class DeepgramStandin(LocalHttpServer):
    def __init__(self, *, accepted_key: str | None = None) -> None:
        super().__init__()
        self.accepted_key = accepted_key
        self._lines: deque[Line] = deque()
        self.connections = 0
        self.refused = 0
        self.query: dict[str, str] = {}
        # what was answered, in order: the test reads the protocol as the plugin saw it
        self.sent: list[dict[str, Any]] = []
        # (transcript, audio seconds at which the final was sent, wall time) per final
        self.finals: list[tuple[str, float, float]] = []

    @property
    def base_url(self) -> str:
        """What `DEEPGRAM_BASE_URL` takes (the agent appends `/listen`)."""
        return f"{self.url}/v1"

    def expect(self, text: str, seconds: float | None = None) -> Line:
        """The next utterance says `text` and lasts `seconds` of audio. A line announced
        before, played and never heard (nothing of it came through) is dropped."""
        while self._lines and self._lines[0].played:
            self._lines.popleft()
        line = Line(text, seconds or SECONDS_PER_WORD * len(text.split()))
        self._lines.append(line)
        return line

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/v1/listen", self._listen), web.get("/v1/projects", self._projects)]

    def _refused(self, request: web.Request) -> bool:
        if self.accepted_key is None:
            return False
        if request.headers.get("Authorization", "") == f"Token {self.accepted_key}":
            return False
        self.refused += 1
        return True

    async def _projects(self, request: web.Request) -> web.Response:
        if self._refused(request):
            return web.json_response(
                {"err_code": "INVALID_AUTH", "err_msg": "Invalid credentials."}, status=401
            )
        return web.json_response({"projects": [{"project_id": "standin", "name": "stand-in"}]})

    async def _listen(self, request: web.Request) -> web.StreamResponse:
        if self._refused(request):
            return web.json_response(
                {"err_code": "INVALID_AUTH", "err_msg": "Invalid credentials."}, status=401
            )
        query = dict(request.query)
        self.query = query
        if query.get("encoding", "linear16") != "linear16":
            return web.json_response({"err_msg": "this stand-in takes linear16"}, status=400)
        endpointing = query.get("endpointing", "10")
        pause_ms = MIN_PAUSE_MS if endpointing == "false" else max(int(endpointing), MIN_PAUSE_MS)
        stream = _Stream(
            sample_rate=int(query.get("sample_rate", "16000")),
            channels=int(query.get("channels", "1")),
            interim=query.get("interim_results") == "true",
            vad_events=query.get("vad_events") == "true",
            pause=pause_ms / 1000,
            utterance_end=(
                int(query["utterance_end_ms"]) / 1000 if "utterance_end_ms" in query else None
            ),
        )
        ws = web.WebSocketResponse()
        ws.headers["dg-request-id"] = stream.request_id
        await ws.prepare(request)
        self.connections += 1
        async for message in ws:
            if message.type == WSMsgType.BINARY:
                for answer in self._hear(stream, message.data):
                    await self._send(ws, answer)
            elif message.type == WSMsgType.TEXT:
                kind = json.loads(message.data).get("type")
                if kind == "Finalize":
                    for answer in self._finalize(stream):
                        await self._send(ws, answer)
                elif kind == "CloseStream":
                    for answer in self._finalize(stream):
                        await self._send(ws, answer)
                    await self._send(ws, self._metadata(stream))
                    await ws.close()
                    break
        return ws

    async def _send(self, ws: web.WebSocketResponse, answer: dict[str, Any]) -> None:
        self.sent.append(answer)
        await ws.send_str(json.dumps(answer))

    # -- hearing --------------------------------------------------------------------------

    def _hear(self, stream: _Stream, data: bytes) -> list[dict[str, Any]]:
        answers: list[dict[str, Any]] = []
        block = stream.sample_rate // 100 * 2 * stream.channels  # 10 ms of audio
        audio = stream.pending + data
        whole = len(audio) - len(audio) % block
        stream.pending = audio[whole:]
        for offset in range(0, whole, block):
            samples = np.frombuffer(audio[offset : offset + block], dtype=np.int16)
            loud = float(np.sqrt(np.mean(samples.astype(np.float32) ** 2))) >= SPEECH_RMS
            stream.received += 0.01
            now = stream.received
            if loud:
                stream.last_sound = now
                if not stream.speaking:
                    answers.extend(self._speech_starts(stream, now))
            elif now - stream.last_sound >= stream.pause and (
                stream.speaking or self._rest_unsaid(stream)
            ):
                # endpointing: a pause ends the phrase
                answers.append(self._final(stream, speech_final=True))
                stream.speaking = False
            if stream.speaking and stream.interim and now - stream.last_interim >= INTERIM_EVERY:
                stream.last_interim = now
                if (interim := self._interim(stream)) is not None:
                    answers.append(interim)
            if (
                not stream.speaking
                and not stream.utterance_end_sent
                and stream.utterance_end is not None
                and stream.last_word_end is not None
                and now - stream.last_word_end >= stream.utterance_end
            ):
                stream.utterance_end_sent = True
                answers.append(
                    {
                        "type": "UtteranceEnd",
                        "channel": [0, 1],
                        "last_word_end": stream.last_word_end,
                    }
                )
        return answers

    def _speech_starts(self, stream: _Stream, now: float) -> list[dict[str, Any]]:
        stream.speaking = True
        stream.segment_start = now
        stream.last_interim = now
        if stream.line is None or stream.said >= len(stream.line.words):
            stream.line = self._lines.popleft() if self._lines else Line("", 0.0)
            stream.line_start = now
            stream.said = 0
        if not stream.vad_events:
            return []
        return [{"type": "SpeechStarted", "channel": [0], "timestamp": round(now, 3)}]

    @staticmethod
    def _rest_unsaid(stream: _Stream) -> bool:
        line = stream.line
        return line is not None and line.played and stream.said < len(line.words)

    def _words_carried(self, stream: _Stream) -> int:
        """How many words of the line the audio heard so far has carried: all of them once
        the line has been played or its audio has run its length, else those whose letters
        have gone by."""
        line = stream.line
        if line is None:
            return 0
        if line.played or stream.received - stream.line_start >= line.seconds:
            return len(line.words)
        into = stream.last_sound - stream.line_start + 0.05
        return sum(1 for end in line.ends if end <= into)

    def _interim(self, stream: _Stream) -> dict[str, Any] | None:
        count = self._words_carried(stream)
        if count <= stream.said:
            return None
        return self._results(stream, count, is_final=False, speech_final=False)

    def _final(
        self, stream: _Stream, *, speech_final: bool, from_finalize: bool = False
    ) -> dict[str, Any]:
        """The words carried since the last final (a pause, or the client's `Finalize`)."""
        count = max(self._words_carried(stream), stream.said)
        answer = self._results(
            stream, count, is_final=True, speech_final=speech_final, from_finalize=from_finalize
        )
        if count > stream.said:
            stream.last_word_end = self._word_end(stream, count - 1)
            stream.utterance_end_sent = False
        stream.said = count
        return answer

    def _finalize(self, stream: _Stream) -> list[dict[str, Any]]:
        """`Finalize`: what was heard so far, now, marked `from_finalize`."""
        return [self._final(stream, speech_final=False, from_finalize=True)]

    @staticmethod
    def _word_end(stream: _Stream, index: int) -> float:
        assert stream.line is not None
        return round(stream.line_start + stream.line.ends[index], 3)

    def _results(
        self,
        stream: _Stream,
        end: int,
        *,
        is_final: bool,
        speech_final: bool,
        from_finalize: bool = False,
    ) -> dict[str, Any]:
        line = stream.line or Line("", 0.0)
        start = stream.said
        words = []
        for index in range(start, end):
            begin = line.ends[index - 1] if index else 0.0
            punctuated = line.words[index]
            words.append(
                {
                    "word": re.sub(r"[^\w']", "", punctuated).lower(),
                    "start": round(stream.line_start + begin, 3),
                    "end": round(stream.line_start + line.ends[index], 3),
                    "confidence": 0.99,
                    "punctuated_word": punctuated,
                }
            )
        transcript = " ".join(line.words[start:end])
        if is_final:
            self.finals.append((transcript, stream.received, time.monotonic()))
        return {
            "type": "Results",
            "channel_index": [0, 1],
            "duration": round(stream.received - stream.segment_start, 3),
            "start": round(stream.segment_start, 3),
            "is_final": is_final,
            "speech_final": speech_final,
            "from_finalize": from_finalize,
            "channel": {
                "alternatives": [
                    {
                        "transcript": transcript,
                        "confidence": 0.99 if transcript else 0.0,
                        "words": words,
                    }
                ]
            },
            "metadata": {
                "request_id": stream.request_id,
                "model_info": MODEL_INFO,
                "model_uuid": "00000000-0000-0000-0000-000000000000",
            },
        }

    @staticmethod
    def _metadata(stream: _Stream) -> dict[str, Any]:
        return {
            "type": "Metadata",
            "transaction_key": "deprecated",
            "request_id": stream.request_id,
            "sha256": "",
            "created": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "duration": round(stream.received, 3),
            "channels": stream.channels,
            "models": [MODEL_INFO["name"]],
            "model_info": {MODEL_INFO["name"]: MODEL_INFO},
        }
