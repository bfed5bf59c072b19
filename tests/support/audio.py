"""A microphone and a speaker for a machine that has neither: a private PulseAudio server.

LiveKit's voice console reads the default microphone and writes the default speaker through
PortAudio. On Debian, PortAudio (`libportaudio2`) speaks ALSA, and ALSA's PulseAudio plugin
(`libasound2-plugins`) makes "default" a PulseAudio client whenever a server answers. So a
PulseAudio server with two virtual devices is all a headless machine needs:

    speaker      a null sink: the console plays the agent into it; its monitor
                 (`speaker.monitor`) is what a test records, the agent's voice as it left.
    caller_line  a null sink the caller's audio is played into (espeak-ng, at real time),
    microphone   and a source remapped from its monitor: the console's microphone.

Each `VirtualAudio` is its own server (its own socket, runtime directory and pid, in a folder
of the test's), started and stopped by the test like the Redis tests' own `redis-server`: no
desktop session, no D-Bus, no state left behind, and tests running side by side never hear
each other. A process joins it through `PULSE_SERVER` (`VirtualAudio.env`). No kernel module
is involved (an ALSA loopback, `snd-aloop`, needs one, and a container or VM rarely has
`/dev/snd` at all), which is why it works on CI as it does here.

`python -m tests.support.audio check` starts one, asks PortAudio for the default microphone
and speaker through it, and stops it (`.ci/run` runs it: a machine that cannot is a loud
failure). `python -m tests.support.audio start DIR` leaves one running for a developer
(README, "The voice console with no keys and no hardware").
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.support.espeak import Speech

PULSEAUDIO = "pulseaudio"
# 24 kHz mono: what LiveKit's console opens, so PulseAudio never resamples the agent's voice
SAMPLE_RATE = 24000
SPEAKER = "speaker"
CALLER_LINE = "caller_line"
MICROPHONE = "microphone"
START_TIMEOUT_SECONDS = 20.0
# RMS (of int16 samples) above which a 10 ms block is sound, not silence. espeak-ng's speech
# sits in the thousands; PulseAudio's null devices give exact zeros when nothing plays.
SOUND_RMS = 200.0
BLOCK_SECONDS = 0.01

_SCRIPT = f"""
load-module module-native-protocol-unix socket={{socket}} auth-anonymous=1
load-module module-null-sink sink_name={SPEAKER} rate={SAMPLE_RATE} channels=1 \
sink_properties=device.description=Virtual_speaker
load-module module-null-sink sink_name={CALLER_LINE} rate={SAMPLE_RATE} channels=1 \
sink_properties=device.description=Caller_line
load-module module-remap-source master={CALLER_LINE}.monitor source_name={MICROPHONE} \
rate={SAMPLE_RATE} channels=1 source_properties=device.description=Virtual_microphone
set-default-sink {SPEAKER}
set-default-source {MICROPHONE}
"""


class AudioUnavailable(RuntimeError):
    """This machine cannot host the virtual devices (what is missing is the message)."""


def audio_problem() -> str | None:
    """What this machine lacks for virtual audio (None: nothing)."""
    for tool, package in (
        (PULSEAUDIO, "pulseaudio"),
        ("pactl", "pulseaudio-utils"),
        ("pacat", "pulseaudio-utils"),
    ):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install {package})"
    try:
        import sounddevice  # type: ignore[import-untyped]  # noqa: F401
    except OSError:
        return "PortAudio is not installed (apt-get install libportaudio2)"
    if sys.platform.startswith("linux") and not _alsa_pulse_plugin_found():
        return "ALSA's PulseAudio plugin is not installed (apt-get install libasound2-plugins)"
    return None


def _alsa_pulse_plugin_found() -> bool:
    for root in (Path("/usr/lib"), Path("/usr/lib64")):
        if any(root.glob("**/alsa-lib/libasound_module_pcm_pulse.so")):
            return True
    return False


class VirtualAudio:
    """A private PulseAudio server with a virtual microphone and speaker, in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket = directory / "native"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def server(self) -> str:
        return f"unix:{self.socket}"

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to use these devices (PortAudio → ALSA → this server)."""
        return {"PULSE_SERVER": self.server}

    def client_env(self) -> dict[str, str]:
        return {**os.environ, **self.env, "HOME": str(self.directory)}

    def start(self) -> None:
        if (problem := audio_problem()) is not None:
            raise AudioUnavailable(problem)
        self.directory.mkdir(parents=True, exist_ok=True)
        runtime = self.directory / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        script = self.directory / "devices.pa"
        script.write_text(_SCRIPT.format(socket=self.socket))
        env = {
            **os.environ,
            "HOME": str(self.directory),
            "XDG_RUNTIME_DIR": str(runtime),
            "PULSE_RUNTIME_PATH": str(runtime),
        }
        env.pop("PULSE_SERVER", None)
        log = (self.directory / "pulseaudio.log").open("wb")
        self._process = subprocess.Popen(
            [
                PULSEAUDIO,
                "--daemonize=no",
                "--system=no",
                "--exit-idle-time=-1",
                "--use-pid-file=no",
                "--realtime=no",
                "--high-priority=no",
                "--disallow-exit=no",
                "--resample-method=speex-float-1",
                "--log-target=stderr",
                "-n",
                f"--file={script}",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            if self.pactl("info", check=False).returncode == 0:
                return
            time.sleep(0.1)
        self.stop()
        raise AudioUnavailable(
            "PulseAudio did not start: " + (self.directory / "pulseaudio.log").read_text()[-800:]
        )

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> VirtualAudio:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["pactl", *args],
            env=self.client_env(),
            capture_output=True,
            text=True,
            timeout=10,
            check=check,
        )

    def play(self, speech: Speech) -> float:
        """Play `speech` into the caller's line (the console's microphone) at real time;
        returns when the last sample has been played, with `time.monotonic()` then."""
        pcm = speech.resampled(SAMPLE_RATE).pcm
        subprocess.run(
            [
                "pacat",
                "--playback",
                f"--device={CALLER_LINE}",
                "--format=s16le",
                f"--rate={SAMPLE_RATE}",
                "--channels=1",
                "--latency-msec=20",
                "--client-name=caller",
            ],
            input=pcm.tobytes(),
            env=self.client_env(),
            check=True,
            timeout=speech.seconds + 30,
        )
        return time.monotonic()

    @contextlib.contextmanager
    def tap(self, source: str) -> Iterator[Tap]:
        """Record `source` (e.g. `speaker.monitor`) for the duration of the block."""
        tap = Tap(source, self.client_env())
        tap.start()
        try:
            yield tap
        finally:
            tap.stop()


@dataclass
class Tap:
    """A live recording of one PulseAudio source, timestamped as it arrives: the whole
    recording (`pcm`) and, per 10 ms block, when it arrived and how loud it was."""

    source: str
    env: Mapping[str, str]
    chunks: list[bytes] = field(default_factory=list)
    block_times: list[float] = field(default_factory=list)
    block_rms: list[float] = field(default_factory=list)
    _process: subprocess.Popen[bytes] | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                "parec",
                f"--device={self.source}",
                "--format=s16le",
                f"--rate={SAMPLE_RATE}",
                "--channels=1",
                "--latency-msec=10",
                "--client-name=tap",
            ],
            env=dict(self.env),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        block_bytes = int(SAMPLE_RATE * BLOCK_SECONDS) * 2
        pending = b""
        while chunk := self._process.stdout.read1(block_bytes):  # type: ignore[attr-defined]
            now = time.monotonic()
            pending += chunk
            whole = len(pending) - len(pending) % block_bytes
            blocks, pending = pending[:whole], pending[whole:]
            if not blocks:
                continue
            samples = np.frombuffer(blocks, dtype=np.int16).astype(np.float32)
            rms = np.sqrt(np.mean(samples.reshape(-1, block_bytes // 2) ** 2, axis=1))
            count = len(rms)
            with self._lock:
                self.chunks.append(blocks)
                # the last block arrived now; the ones before it, a block apart before
                self.block_times.extend(now - BLOCK_SECONDS * (count - 1 - i) for i in range(count))
                self.block_rms.extend(float(x) for x in rms)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def pcm(self) -> np.ndarray:
        with self._lock:
            return np.frombuffer(b"".join(self.chunks), dtype=np.int16)

    def sound_seconds(self, since: float = 0.0, until: float = float("inf")) -> float:
        """How much of the recording between two `time.monotonic()` instants was sound."""
        with self._lock:
            return BLOCK_SECONDS * sum(
                1
                for t, rms in zip(self.block_times, self.block_rms, strict=True)
                if since <= t < until and rms >= SOUND_RMS
            )

    def activity(self, since: float, until: float, step: float = 0.1) -> str:
        """Sound per `step` seconds between two instants, e.g. "▁▁▇█▇▁": for a failure's
        message."""
        marks = "▁▂▃▄▅▆▇█"
        out = []
        moment = since
        while moment < until:
            share = self.sound_seconds(moment, moment + step) / step
            out.append(marks[min(int(share * (len(marks) - 1) + 0.5), len(marks) - 1)])
            moment += step
        return "".join(out)

    def first_sound(self, since: float) -> float | None:
        """When the first sound block after `since` arrived (None: not yet)."""
        with self._lock:
            for t, rms in zip(self.block_times, self.block_rms, strict=True):
                if t >= since and rms >= SOUND_RMS:
                    return t
        return None

    def last_sound_before(self, until: float, *, since: float = 0.0) -> float:
        """When the last sound block between `since` and `until` arrived (`since` if none)."""
        with self._lock:
            heard = [
                t
                for t, rms in zip(self.block_times, self.block_rms, strict=True)
                if since <= t < until and rms >= SOUND_RMS
            ]
        return heard[-1] if heard else since

    def last_sound(self) -> float | None:
        with self._lock:
            for t, rms in zip(reversed(self.block_times), reversed(self.block_rms), strict=True):
                if rms >= SOUND_RMS:
                    return t
        return None

    def silent_since(self, seconds: float) -> bool:
        """True when the last `seconds` of the recording were silence (and there is that much
        recording)."""
        with self._lock:
            if not self.block_times:
                return False
            now = self.block_times[-1]
            recent = [
                rms
                for t, rms in zip(self.block_times, self.block_rms, strict=True)
                if t > now - seconds
            ]
            span = now - self.block_times[0]
        return span >= seconds and all(rms < SOUND_RMS for rms in recent)


def portaudio_devices(env: Mapping[str, str]) -> str:
    """The default microphone and speaker PortAudio finds in a fresh process with `env`
    (a fresh process: PortAudio scans the devices once, when it is loaded)."""
    probe = (
        "import sounddevice as sd\n"
        "i = sd.query_devices(kind='input'); o = sd.query_devices(kind='output')\n"
        "print(f\"microphone: {i['name']}, speaker: {o['name']}\")\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise AudioUnavailable(
            "PortAudio sees no microphone or speaker through PulseAudio: "
            + done.stderr.strip().splitlines()[-1:][0]
            if done.stderr.strip()
            else "PortAudio sees no microphone or speaker through PulseAudio"
        )
    return done.stdout.strip()


def main(argv: list[str]) -> int:
    """`check`: start, probe through PortAudio, stop (CI). `start DIR`: leave one running."""
    import tempfile

    if not argv or argv[0] not in ("check", "start"):
        print("usage: python -m tests.support.audio {check | start DIR}", file=sys.stderr)
        return 2
    try:
        if argv[0] == "check":
            with (
                tempfile.TemporaryDirectory(prefix="virtual-audio-") as directory,
                VirtualAudio(Path(directory)) as audio,
            ):
                print(f"virtual audio: {portaudio_devices(audio.env)}")
            return 0
        audio = VirtualAudio(Path(argv[1] if len(argv) > 1 else "var/audio").resolve())
        audio.start()
        audio._process = None  # keep it running after this process exits
        print(f"export PULSE_SERVER={audio.server}")
        return 0
    except AudioUnavailable as exc:
        print(f"virtual audio: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
