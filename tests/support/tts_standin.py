"""A local OpenAI text-to-speech server that speaks with espeak-ng, for the voice console
offline.

It answers `POST /v1/audio/speech` as OpenAI does, so the agent's own `openai.TTS`
(`livekit-plugins-openai`) talks to it unchanged, pointed here by `OPENAI_TTS_BASE_URL` (the
plugin's public `base_url` argument):

- the body's `input` is said by espeak-ng (real speech: Silero hears it, a test's ears too);
- `response_format` is honoured: `mp3` (the plugin's default), `opus` (Ogg), `aac` (ADTS),
  `flac`, `wav` or `pcm` (raw 24 kHz 16-bit mono), encoded with PyAV (already installed with
  livekit-agents);
- `stream_format: "sse"` (what the plugin asks of `gpt-4o-mini-tts`) streams
  `speech.audio.delta` events carrying the encoded audio in base64, then `speech.audio.done`
  with token usage; `stream_format: "audio"` (or none) streams the bytes themselves;
- `GET /v1/models` answers the agent's start-up key check (401 for a key it refuses): that,
  and the key check, are the typed console's OpenAI stand-in's, which this one extends.

Every request is kept (`spoken`): what the agent said, as text, and how many seconds of audio
it became, which is what a test checks the rules against (no code, no full phone number).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, cast

import av
from aiohttp import web
from av.audio.stream import AudioStream

from tests.support.espeak import AGENT_VOICE, WORDS_PER_MINUTE, Speech, speak
from tests.support.openai_standin import OpenAIStandin

SAMPLE_RATE = 24000  # what OpenAI's speech is (and what the plugin decodes it as)
CHUNK_BYTES = 4096
# (PyAV container, codec, Content-Type) per response_format
ENCODINGS = {
    "mp3": ("mp3", "libmp3lame", "audio/mpeg"),
    "opus": ("ogg", "libopus", "audio/ogg"),
    "aac": ("adts", "aac", "audio/aac"),
    "flac": ("flac", "flac", "audio/flac"),
    "wav": ("wav", "pcm_s16le", "audio/wav"),
}


@dataclass(frozen=True, slots=True)
class Spoken:
    text: str
    seconds: float
    response_format: str
    stream_format: str
    # from the request's arrival to its first audio going out: the stand-in's own time
    # (espeak-ng and the encoder), which a benchmark does not count as the pipeline's
    synthesis_seconds: float


def encode(speech: Speech, response_format: str) -> tuple[bytes, str]:
    """`speech` at 24 kHz in `response_format`, and its Content-Type."""
    pcm = speech.resampled(SAMPLE_RATE).pcm
    if response_format == "pcm":
        return pcm.tobytes(), "audio/pcm"
    container_name, codec, content_type = ENCODINGS[response_format]
    out = io.BytesIO()
    with av.open(out, mode="w", format=container_name) as container:
        stream = cast(AudioStream, container.add_stream(codec, rate=SAMPLE_RATE))
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue(), content_type


class OpenAITtsStandin(OpenAIStandin):
    """The typed console's OpenAI stand-in (its key check and `/v1/models`), speaking too."""

    def __init__(
        self,
        *,
        voice: str = AGENT_VOICE,
        words_per_minute: int = WORDS_PER_MINUTE,
        gain: float = 1.0,
        accepted_key: str | None = None,
    ) -> None:
        super().__init__(accepted_key=accepted_key)
        self.gain = gain
        self.voice = voice
        self.words_per_minute = words_per_minute
        self.spoken: list[Spoken] = []

    def routes(self) -> list[web.RouteDef]:
        return [*super().routes(), web.post("/v1/audio/speech", self._speech)]

    async def _speech(self, request: web.Request) -> web.StreamResponse:
        if (refusal := self._refusal(request)) is not None:
            return refusal
        arrived = time.perf_counter()
        body: dict[str, Any] = await request.json()
        text = str(body.get("input", ""))
        response_format = str(body.get("response_format") or "mp3")
        stream_format = str(body.get("stream_format") or "audio")
        if response_format not in (*ENCODINGS, "pcm") or stream_format not in ("audio", "sse"):
            error = {"message": f"unsupported format {response_format}/{stream_format}"}
            return web.json_response({"error": error}, status=400)
        # `speed` as OpenAI takes it (0.25 to 4.0, 1 is the voice's own pace)
        speed = min(max(float(body.get("speed") or 1.0), 0.25), 4.0)
        rate = round(self.words_per_minute * speed)
        speech = await asyncio.to_thread(speak, text, voice=self.voice, words_per_minute=rate)
        if self.gain != 1.0:
            speech = speech.louder(self.gain)
        audio, content_type = await asyncio.to_thread(encode, speech, response_format)
        synthesis = time.perf_counter() - arrived
        self.spoken.append(Spoken(text, speech.seconds, response_format, stream_format, synthesis))
        sse = stream_format == "sse"
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream" if sse else content_type,
                "x-request-id": f"req_{uuid.uuid4().hex}",  # as OpenAI sends (the SDK reads it)
            }
        )
        await response.prepare(request)
        for start in range(0, len(audio), CHUNK_BYTES):
            chunk = audio[start : start + CHUNK_BYTES]
            if sse:
                event = {"type": "speech.audio.delta", "audio": base64.b64encode(chunk).decode()}
                await response.write(f"data: {json.dumps(event)}\n\n".encode())
            else:
                await response.write(chunk)
        if sse:
            tokens = len(text.split())
            usage = {
                "input_tokens": tokens,
                "output_tokens": int(speech.seconds * 20),
                "total_tokens": tokens + int(speech.seconds * 20),
            }
            done = {"type": "speech.audio.done", "usage": usage}
            await response.write(f"data: {json.dumps(done)}\n\n".encode())
        await response.write_eof()
        return response
