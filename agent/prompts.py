"""The agent's instructions: text files under `prompts/`, read once at start."""

from __future__ import annotations

from functools import cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


@cache
def load_prompt(name: str) -> str:
    return (PROMPTS_DIR / name).read_text(encoding="utf-8").strip()


def instructions(clinic_name: str) -> str:
    return load_prompt("instructions.txt").replace("{clinic_name}", clinic_name)
