"""What a call cost: LLM tokens, TTS characters, STT seconds, per model.

LiveKit 1.8.9 keeps each session's usage itself (`AgentSession.usage`, one entry per
model/provider; `metrics_collected` and `UsageCollector` are deprecated). At the end of each
call the totals go to Prometheus counters (so a clinic can price its calls) and to one log
line. No phone number, no transcript: only counts and model names.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from livekit.agents.metrics.usage import LLMModelUsage, STTModelUsage, TTSModelUsage
from prometheus_client import Counter

log = logging.getLogger(__name__)

_NOT_IN_MODEL_NAME = re.compile(r"[^A-Za-z0-9_.:/@-]")


def model_label(name: str) -> str:
    """A model name as a label: the characters model names use, at most 64 of them."""
    return _NOT_IN_MODEL_NAME.sub("_", name)[:64] or "unknown"


LLM_TOKENS = Counter(
    "clinic_llm_tokens",
    "LLM tokens used by calls, by model and direction (input, output).",
    ["model", "direction"],
)
TTS_CHARACTERS = Counter(
    "clinic_tts_characters", "Characters turned into speech by calls, by model.", ["model"]
)
STT_SECONDS = Counter(
    "clinic_stt_audio_seconds", "Seconds of caller audio transcribed, by model.", ["model"]
)


@dataclass
class CallUsage:
    llm_input_tokens: int = 0
    llm_output_tokens: int = 0
    tts_characters: int = 0
    stt_audio_seconds: float = 0.0
    models: list[str] = field(default_factory=list)


def call_usage(model_usage: list[Any]) -> CallUsage:
    """Add up LiveKit's per-model usage entries (other kinds, e.g. turn detection, ignored)."""
    total = CallUsage()
    for entry in model_usage:
        if isinstance(entry, LLMModelUsage):
            total.llm_input_tokens += entry.input_tokens
            total.llm_output_tokens += entry.output_tokens
        elif isinstance(entry, TTSModelUsage):
            total.tts_characters += entry.characters_count
        elif isinstance(entry, STTModelUsage):
            total.stt_audio_seconds += entry.audio_duration
        else:
            continue
        total.models.append(entry.model)
    return total


def record_usage(model_usage: list[Any]) -> CallUsage:
    """Count one finished call's usage in the Prometheus counters; return the totals."""
    for entry in model_usage:
        model = model_label(entry.model)
        if isinstance(entry, LLMModelUsage):
            LLM_TOKENS.labels(model=model, direction="input").inc(entry.input_tokens)
            LLM_TOKENS.labels(model=model, direction="output").inc(entry.output_tokens)
        elif isinstance(entry, TTSModelUsage):
            TTS_CHARACTERS.labels(model=model).inc(entry.characters_count)
        elif isinstance(entry, STTModelUsage):
            STT_SECONDS.labels(model=model).inc(entry.audio_duration)
    return call_usage(model_usage)


def report_call_usage(session: Any, session_id: str) -> CallUsage:
    """At the end of a call: counters, and one summary line."""
    usage = record_usage(list(session.usage.model_usage))
    log.info(
        "call usage: %d LLM tokens in, %d out, %d TTS characters, %.1f s STT",
        usage.llm_input_tokens,
        usage.llm_output_tokens,
        usage.tts_characters,
        usage.stt_audio_seconds,
        extra={
            "session_id": session_id,
            "llm_input_tokens": usage.llm_input_tokens,
            "llm_output_tokens": usage.llm_output_tokens,
            "tts_characters": usage.tts_characters,
            "stt_audio_seconds": round(usage.stt_audio_seconds, 2),
            "models": sorted(set(usage.models)),
        },
    )
    return usage
