"""Real speech from text, offline: espeak-ng (Debian's `espeak-ng`, Homebrew's `espeak-ng`).

The voice tests need audio that sounds like speech to a voice-activity detector (Silero), with
pauses where a person pauses, and of a length that follows the words: a sine tone or white
noise is not that. espeak-ng is small, deterministic and fast (a sentence in ~20 ms), so it
gives both voices of a test call: the caller's lines played into the virtual microphone, and
the agent's replies returned by the OpenAI TTS stand-in.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ESPEAK = "espeak-ng"
AGENT_VOICE = "en-us"
CALLER_VOICE = "en-us+f3"
WORDS_PER_MINUTE = 175
LOUD_RMS = 300.0  # of int16 samples: speech, not the silence between phrases


@dataclass(frozen=True, slots=True)
class Speech:
    """Mono 16-bit PCM and its sample rate."""

    pcm: np.ndarray  # int16
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.pcm) / self.sample_rate

    @property
    def voiced_seconds(self) -> float:
        """From the first loud 10 ms to the end of the last: the speech without the silence
        espeak-ng puts around it (what a listener hears as the utterance's length)."""
        loud = np.flatnonzero(self._loud_blocks())
        if len(loud) == 0:
            return 0.0
        return float(loud[-1] + 1 - loud[0]) * self._block / self.sample_rate

    @property
    def loud_seconds(self) -> float:
        """The loud 10 ms blocks added up: the speech without any of its pauses (what a
        device that drops or adds silence must still carry, all of it)."""
        return float(np.count_nonzero(self._loud_blocks())) * self._block / self.sample_rate

    @property
    def _block(self) -> int:
        """Samples in 10 ms."""
        return max(self.sample_rate // 100, 1)

    def _loud_blocks(self) -> np.ndarray:
        """For each whole 10 ms block, whether its RMS is at least `LOUD_RMS`."""
        count = len(self.pcm) // self._block
        blocks = self.pcm[: count * self._block].astype(np.float32).reshape(count, self._block)
        loud: np.ndarray = np.sqrt(np.mean(blocks**2, axis=1)) >= LOUD_RMS
        return loud

    def louder(self, gain: float) -> Speech:
        """The same speech, `gain` times as loud (below 1: quieter), clipped to 16 bits."""
        samples = np.clip(self.pcm.astype(np.float32) * gain, -32768, 32767)
        return Speech(samples.astype(np.int16), self.sample_rate)

    def resampled(self, sample_rate: int) -> Speech:
        """Linear interpolation: plenty for speech going to a VAD or a test's ears."""
        if sample_rate == self.sample_rate or len(self.pcm) == 0:
            return Speech(self.pcm, sample_rate)
        count = round(len(self.pcm) * sample_rate / self.sample_rate)
        positions = np.linspace(0, len(self.pcm) - 1, count)
        samples = np.interp(positions, np.arange(len(self.pcm)), self.pcm.astype(np.float32))
        return Speech(np.round(samples).astype(np.int16), sample_rate)


def espeak_problem() -> str | None:
    """Why this machine cannot speak (None: it can)."""
    if shutil.which(ESPEAK) is None:
        return "espeak-ng is not installed (apt-get install espeak-ng / brew install espeak-ng)"
    return None


def speak(
    text: str, *, voice: str = AGENT_VOICE, words_per_minute: int = WORDS_PER_MINUTE
) -> Speech:
    """`text` said by espeak-ng, at its own sample rate (22,050 Hz)."""
    with tempfile.TemporaryDirectory(prefix="espeak-") as directory:
        path = Path(directory) / "speech.wav"
        subprocess.run(
            [ESPEAK, "-v", voice, "-s", str(words_per_minute), "-w", str(path), "--", text],
            check=True,
            capture_output=True,
            timeout=30,
        )
        with wave.open(str(path), "rb") as wav:
            if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                raise RuntimeError(f"espeak-ng wrote {wav.getnchannels()} channels")
            frames = wav.readframes(wav.getnframes())
            return Speech(np.frombuffer(frames, dtype=np.int16).copy(), wav.getframerate())
