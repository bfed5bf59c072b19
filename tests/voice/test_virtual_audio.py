"""The virtual devices are what PortAudio (and so LiveKit's console) takes for a microphone and
a speaker: what the caller says comes out of PortAudio's default input, and what a program
plays on PortAudio's default output is on the speaker's monitor. Two servers never hear each
other (tests side by side each have their own)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

from tests.support.audio import MICROPHONE, SAMPLE_RATE, SPEAKER, VirtualAudio, portaudio_devices
from tests.support.espeak import CALLER_VOICE, Speech, speak

# A program using PortAudio's defaults, as LiveKit's console does (24 kHz mono, int16): it
# records `seconds` from the default input while playing a file on the default output.
_PORTAUDIO_PROGRAM = """
import sys, wave
import numpy as np
import sounddevice as sd
play, record, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
with wave.open(play, "rb") as w:
    out = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
out = np.concatenate([out, np.zeros(int(seconds * 24000) - len(out), dtype=np.int16)])
heard = sd.playrec(out.reshape(-1, 1), samplerate=24000, channels=1, dtype="int16")
sd.wait()
with wave.open(record, "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(24000); w.writeframes(heard.tobytes())
"""


def _write_wav(path: Path, pcm: np.ndarray) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())


async def test_portaudio_hears_the_caller_and_plays_to_the_speaker(
    tmp_path: Path, virtual_audio_ok: None
) -> None:
    agent_voice = speak("Thank you for calling Bayview Clinic.").resampled(SAMPLE_RATE)
    caller_voice = speak("I'd like to cancel my appointment.", voice=CALLER_VOICE)
    _write_wav(tmp_path / "agent.wav", agent_voice.pcm)
    with VirtualAudio(tmp_path / "audio") as audio:
        assert portaudio_devices(audio.env) == "microphone: default, speaker: default"
        with audio.tap(f"{SPEAKER}.monitor") as speaker, audio.tap(MICROPHONE) as microphone:
            program = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _PORTAUDIO_PROGRAM,
                    str(tmp_path / "agent.wav"),
                    str(tmp_path / "heard.wav"),
                    "5",
                ],
                env={**audio.client_env()},
            )
            await asyncio.sleep(0.5)
            await asyncio.to_thread(audio.play, caller_voice)
            assert await asyncio.to_thread(program.wait, 60) == 0
    with wave.open(str(tmp_path / "heard.wav"), "rb") as recorded:
        heard = np.frombuffer(recorded.readframes(recorded.getnframes()), dtype=np.int16)

    # the caller's speech came out of PortAudio's default input, all of it
    sent = caller_voice.resampled(SAMPLE_RATE)
    assert abs(Speech(heard, SAMPLE_RATE).loud_seconds - sent.loud_seconds) < 0.3
    assert microphone.sound_seconds() > 1.0
    # what the program played is on the speaker's monitor, and nothing else is
    assert abs(speaker.sound_seconds() - agent_voice.loud_seconds) < 0.3


async def test_two_virtual_audio_servers_never_hear_each_other(
    tmp_path: Path, virtual_audio_ok: None
) -> None:
    with (
        VirtualAudio(tmp_path / "one") as one,
        VirtualAudio(tmp_path / "two") as two,
        two.tap(MICROPHONE) as other_microphone,
        one.tap(MICROPHONE) as microphone,
    ):
        await asyncio.to_thread(one.play, speak("Hello there.", voice=CALLER_VOICE))
    assert microphone.sound_seconds() > 0.3
    assert other_microphone.sound_seconds() == 0
