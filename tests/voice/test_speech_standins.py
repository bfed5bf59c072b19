"""The speech stand-ins speak the real protocols: the agent's own plugins, unchanged and only
pointed at another base URL, get from them what they get from Deepgram and OpenAI.

- Deepgram's live STT, through `livekit-plugins-deepgram`: start of speech, interim results
  that grow, a final result at a pause (`speech_final`), `Finalize` answered `from_finalize`,
  `UtteranceEnd` after `utterance_end_ms`, and a refused key as Deepgram refuses one.
- OpenAI's speech endpoint, through `livekit-plugins-openai`: real audio (espeak-ng's) in
  every `response_format` the plugin may ask for, streamed as SSE events or as bytes.

No audio device is needed here, only espeak-ng.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import numpy as np
import pytest
from livekit import rtc
from livekit.agents import stt as agents_stt
from livekit.plugins import deepgram, openai

from agent.preflight import check_deepgram, check_openai
from tests.support.deepgram_standin import DeepgramStandin
from tests.support.espeak import CALLER_VOICE, Speech, speak
from tests.support.tts_standin import OpenAITtsStandin

LINE = "Please text me a code at 415 555 0123."
SPOKEN = "Please text me a code at four one five five five five zero one two three"
RATE = 16000  # what the Deepgram plugin sends


@pytest.fixture
async def deepgram_standin(espeak_ok: None) -> AsyncIterator[DeepgramStandin]:
    server = DeepgramStandin(accepted_key="dg-key")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def tts_standin(espeak_ok: None) -> AsyncIterator[OpenAITtsStandin]:
    server = OpenAITtsStandin(accepted_key="sk-key")
    await server.start()
    yield server
    await server.stop()


def _frames(speech: Speech, *, silence_before: float, silence_after: float) -> list[rtc.AudioFrame]:
    """`speech` at 16 kHz between two silences, in 10 ms frames."""
    pcm = np.concatenate(
        [
            np.zeros(int(silence_before * RATE), dtype=np.int16),
            speech.resampled(RATE).pcm,
            np.zeros(int(silence_after * RATE), dtype=np.int16),
        ]
    )
    step = RATE // 100
    return [
        rtc.AudioFrame(pcm[i : i + step].tobytes(), RATE, 1, step)
        for i in range(0, len(pcm) - step + 1, step)
    ]


async def _events(
    stream: agents_stt.SpeechStream, until: agents_stt.SpeechEventType
) -> list[agents_stt.SpeechEvent]:
    events = []
    async with asyncio.timeout(30):
        async for event in stream:
            events.append(event)
            if event.type == until:
                break
    return events


async def test_the_deepgram_plugin_hears_interim_then_final_results(
    deepgram_standin: DeepgramStandin,
) -> None:
    speech = speak(SPOKEN, voice=CALLER_VOICE)
    deepgram_standin.expect(LINE, speech.voiced_seconds)
    async with aiohttp.ClientSession() as http:
        plugin = deepgram.STT(
            api_key="dg-key",
            base_url=f"{deepgram_standin.base_url}/listen",
            http_session=http,
            numerals=True,
        )
        stream = plugin.stream()
        for frame in _frames(speech, silence_before=0.3, silence_after=1.0):
            stream.push_frame(frame)
        events = await _events(stream, agents_stt.SpeechEventType.END_OF_SPEECH)
        await stream.aclose()

    kinds = [
        event.type for event in events if event.type != agents_stt.SpeechEventType.RECOGNITION_USAGE
    ]
    assert kinds[0] == agents_stt.SpeechEventType.START_OF_SPEECH
    assert kinds[-2:] == [
        agents_stt.SpeechEventType.FINAL_TRANSCRIPT,
        agents_stt.SpeechEventType.END_OF_SPEECH,
    ]
    interims = [
        e.alternatives[0].text
        for e in events
        if e.type == agents_stt.SpeechEventType.INTERIM_TRANSCRIPT
    ]
    assert len(interims) >= 2 and all(LINE.startswith(text) for text in interims), interims
    assert interims == sorted(interims, key=len)  # they grow as the words arrive
    final = next(e for e in events if e.type == agents_stt.SpeechEventType.FINAL_TRANSCRIPT)
    assert final.alternatives[0].text == LINE
    words = final.alternatives[0].words or []
    assert [str(w) for w in words] == LINE.split()  # punctuated words, timed in order
    starts = [float(w.start_time) for w in words if isinstance(w.start_time, float | int)]
    assert len(starts) == len(words) and starts == sorted(starts)
    # the plugin asked for what the agent asks for, in Deepgram's query language
    query = deepgram_standin.query
    assert (query["encoding"], query["sample_rate"], query["numerals"]) == (
        "linear16",
        "16000",
        "true",
    )


async def test_finalize_gives_what_was_heard_so_far(deepgram_standin: DeepgramStandin) -> None:
    """LiveKit sends `Finalize` when its own VAD says the caller stopped; Deepgram answers at
    once with the words so far, marked `from_finalize`."""
    speech = speak(SPOKEN, voice=CALLER_VOICE)
    deepgram_standin.expect(LINE, speech.voiced_seconds)
    async with aiohttp.ClientSession() as http:
        plugin = deepgram.STT(
            api_key="dg-key", base_url=f"{deepgram_standin.base_url}/listen", http_session=http
        )
        stream = plugin.stream()
        for frame in _frames(speech, silence_before=0.2, silence_after=0.1):
            stream.push_frame(frame)
        stream.flush()
        events = await _events(stream, agents_stt.SpeechEventType.FINAL_TRANSCRIPT)
        await stream.aclose()
    assert events[-1].alternatives[0].text == LINE
    finals = [m for m in deepgram_standin.sent if m["type"] == "Results" and m["is_final"]]
    assert finals[-1]["from_finalize"] is True and finals[-1]["speech_final"] is False


async def test_the_raw_protocol_speech_started_results_utterance_end_metadata(
    deepgram_standin: DeepgramStandin,
) -> None:
    """The messages as they go over the socket, with `utterance_end_ms` (which the agent does
    not ask for, but a Deepgram client may)."""
    speech = speak("Yes, cancel it.", voice=CALLER_VOICE)
    deepgram_standin.expect("Yes, cancel it.", speech.voiced_seconds)
    url = (
        f"{deepgram_standin.url.replace('http', 'ws')}/v1/listen?encoding=linear16"
        "&sample_rate=16000&channels=1&interim_results=true&vad_events=true"
        "&endpointing=300&utterance_end_ms=1000"
    )
    audio = b"".join(bytes(f.data) for f in _frames(speech, silence_before=0.2, silence_after=1.5))
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url, headers={"Authorization": "Token dg-key"}) as ws,
    ):
        for start in range(0, len(audio), 3200):  # 100 ms a message
            await ws.send_bytes(audio[start : start + 3200])
        await ws.send_str(json.dumps({"type": "CloseStream"}))
        messages = [json.loads(m.data) async for m in ws if m.type == aiohttp.WSMsgType.TEXT]
    kinds = [m["type"] for m in messages]
    assert kinds[0] == "SpeechStarted"
    assert kinds.index("UtteranceEnd") > max(
        i for i, m in enumerate(messages) if m["type"] == "Results" and m["speech_final"]
    )
    assert kinds[-1] == "Metadata"
    final = next(m for m in messages if m["type"] == "Results" and m["speech_final"])
    assert final["channel"]["alternatives"][0]["transcript"] == "Yes, cancel it."
    assert final["is_final"] is True and final["start"] >= 0.1


async def test_a_refused_deepgram_key_is_refused_as_deepgram_does(
    deepgram_standin: DeepgramStandin,
) -> None:
    problem = await check_deepgram("not-the-key", deepgram_standin.base_url)
    assert problem is not None and "HTTP 401" in problem.line
    assert await check_deepgram("dg-key", deepgram_standin.base_url) is None


@pytest.mark.parametrize(
    ("model", "response_format", "stream_format"),
    [
        ("gpt-4o-mini-tts", "mp3", "sse"),  # what the agent asks for
        ("tts-1", "mp3", "audio"),
        ("gpt-4o-mini-tts", "pcm", "sse"),
        ("tts-1", "wav", "audio"),
        ("tts-1", "opus", "audio"),
        ("tts-1", "aac", "audio"),
        ("tts-1", "flac", "audio"),
    ],
)
async def test_the_openai_tts_plugin_gets_real_speech(
    tts_standin: OpenAITtsStandin, model: str, response_format: str, stream_format: str
) -> None:
    plugin = openai.TTS(
        model=model,
        voice="ash",
        base_url=tts_standin.base_url,
        api_key="sk-key",
        response_format=response_format,
    )
    try:
        frame = await plugin.synthesize("Thank you for calling Bayview Clinic.").collect()
    finally:
        await plugin.aclose()
    spoken = tts_standin.spoken[-1]
    assert (spoken.text, spoken.response_format, spoken.stream_format) == (
        "Thank you for calling Bayview Clinic.",
        response_format,
        stream_format,
    )
    assert frame.sample_rate == 24000
    # the plugin decoded as much speech as espeak-ng said (AAC pads a frame or two)
    assert abs(frame.duration - spoken.seconds) < 0.1, (frame.duration, spoken.seconds)
    samples = np.frombuffer(frame.data, dtype=np.int16).astype(np.float32)
    assert float(np.sqrt(np.mean(samples**2))) > 500  # speech, not silence


async def test_a_refused_openai_key_is_refused_as_openai_does(
    tts_standin: OpenAITtsStandin,
) -> None:
    problem = await check_openai(tts_standin.base_url, "sk-wrong")
    assert problem is not None and "HTTP 401" in problem.line
    assert await check_openai(tts_standin.base_url, "sk-key") is None
    assert tts_standin.refused == 1
