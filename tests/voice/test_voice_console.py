"""The voice console, run for real: `python -m agent console` (LiveKit's own) hears a caller
through a microphone and answers through a speaker, end to end.

Nothing is mocked inside the agent process: its Silero VAD, LiveKit's end-of-turn model, its
`deepgram.STT`, `openai.LLM` and `openai.TTS` plugins, the OTP service, the records and the
console SMS are the ones a developer runs. Around it is what a developer's machine would have
instead of hardware and keys: virtual audio devices (PulseAudio), a caller who speaks
(espeak-ng), and the speech services at local addresses speaking their real protocols
(`tests/support/voice_call.py`, whose `cancel_by_voice` is the call played here).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clinic import open_records
from tests.support.constants import PHONE_DIGITS
from tests.support.voice_call import LONG_ANSWER, cancel_by_voice, messages, text_of
from verification import parse_spoken_code

pytestmark = pytest.mark.voice


async def _status(url: str, appointment_id: str) -> str:
    records = open_records(url)
    try:
        return (await records.get_appointment(appointment_id)).status
    finally:
        await records.aclose()


def _forbidden(text: str, code: str) -> list[str]:
    """What the rules forbid in something the agent said: the code, in digits or words, or
    the caller's full phone number."""
    digits = re.sub(r"\D", "", text)
    found = []
    if code in digits or parse_spoken_code(text) == code:
        found.append("the code")
    if PHONE_DIGITS[3:] in digits:
        found.append("the full phone number")
    return found


async def test_a_caller_cancels_by_voice_talking_over_the_agent_once(
    tmp_path: Path, virtual_audio_ok: None
) -> None:
    call = await cancel_by_voice(tmp_path)

    # the appointment is cancelled, in the records file the console used
    assert await _status(call.records_url, call.appointment_id) == "cancelled"

    # the agent's voice reached the speaker: its greeting, and most of what the TTS said
    speaker = call.speaker
    assert speaker.sound_seconds(call.greeting_heard, call.greeting_heard + 2) > 0.5
    said_seconds = sum(spoken.seconds for spoken in call.spoken)
    assert speaker.sound_seconds() > 0.4 * said_seconds, (speaker.sound_seconds(), said_seconds)

    # the caller talked over the long answer, and the agent stopped: the session marks that
    # answer interrupted, and its voice left the speaker while the caller was still talking
    answers = messages(call.report, "assistant")
    long_answer = next(m for m in answers if text_of(m) and LONG_ANSWER.startswith(text_of(m)[:20]))
    assert long_answer["interrupted"] is True, long_answer
    talking, stopped_talking = call.interruption
    last_third = stopped_talking - (stopped_talking - talking) / 3
    assert speaker.sound_seconds(call.long_answer_heard, talking) > 0, "it was speaking"
    window = (call.long_answer_heard - 0.5, stopped_talking + 2)
    assert speaker.sound_seconds(last_third, stopped_talking) == 0, (
        f"speaker {speaker.activity(*window)}, caller "
        f"{call.microphone.activity(*window)} (100 ms a mark)\n{call.timeline}\n"
        f"{[(text_of(m), m['interrupted']) for m in answers]}"
    )
    long_answer_seconds = sum(s.seconds for s in call.spoken if s.text in LONG_ANSWER)
    played = speaker.sound_seconds(call.long_answer_heard, stopped_talking)
    assert played < 0.6 * long_answer_seconds, (played, long_answer_seconds)

    # the session heard the caller through the real Deepgram plugin: interim results, then
    # finals; the spoken code reached the code check as words the caller said
    heard = [text_of(m) for m in messages(call.report, "user")]
    assert any("Jane Doe" in h and "1985" in h for h in heard), heard
    assert any(parse_spoken_code(h) == call.code for h in heard), heard
    results = [m for m in call.stt_sent if m["type"] == "Results"]
    assert any(not m["is_final"] for m in results) and any(m["speech_final"] for m in results)

    # nothing the rules forbid was said, nor sent to be said, though the model wrote both the
    # code and the full number into its confirmation (CONFIRM): it was said without them
    agent_words = [s.text for s in call.spoken] + [text_of(m) for m in answers]
    confirmation = [text for text in agent_words if text.startswith("Just to confirm")]
    assert confirmation and all("ending in 0123" in text for text in confirmation), agent_words
    for text in agent_words:
        assert _forbidden(text, call.code) == [], text
