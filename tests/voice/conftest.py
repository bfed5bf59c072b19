"""Fixtures for the voice tests: what the machine needs for audio (PulseAudio, PortAudio,
the ALSA PulseAudio plugin, espeak-ng). Without it they skip with what is missing, unless
`REQUIRE_AUDIO=1` (set by `.ci/run`, which installs it), in which case they fail: CI never
passes by skipping the voice path it is meant to prove."""

from __future__ import annotations

import os

import pytest

from tests.support.audio import audio_problem
from tests.support.espeak import espeak_problem

REQUIRE_AUDIO = os.environ.get("REQUIRE_AUDIO") == "1"


@pytest.fixture
def virtual_audio_ok() -> None:
    problem = audio_problem() or espeak_problem()
    if problem is None:
        return
    if REQUIRE_AUDIO:
        pytest.fail(f"REQUIRE_AUDIO=1 but this machine cannot run the voice console: {problem}")
    pytest.skip(f"no virtual audio here: {problem}")


@pytest.fixture
def espeak_ok() -> None:
    """espeak-ng, for the tests that need speech but no audio device."""
    if (problem := espeak_problem()) is None:
        return
    if REQUIRE_AUDIO:
        pytest.fail(f"REQUIRE_AUDIO=1 but {problem}")
    pytest.skip(problem)
