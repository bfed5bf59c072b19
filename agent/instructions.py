"""The agent's instructions: plain text in the repository's `prompts/<language>/` folders.

They are read from files, not written in code, so a clinic can reword them and a new
language is a new folder. `instructions(clinic_name, language)` is the text one call starts
with; each file is read once per process (the worker reads them in `prewarm`, before a call).
The container copies `prompts/` beside `agent/`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Final

PROMPTS_DIR: Final = Path(__file__).resolve().parent.parent / "prompts"
DEFAULT_LANGUAGE: Final = "en"


@cache
def languages() -> tuple[str, ...]:
    """The languages with instructions of their own ("en", "es", ...)."""
    return tuple(sorted(path.parent.name for path in PROMPTS_DIR.glob("*/instructions.txt")))


@cache
def load_prompt(name: str, language: str = DEFAULT_LANGUAGE) -> str:
    """`prompts/<language>/<name>.txt`, or the default language's when there is none."""
    folder = PROMPTS_DIR / (language if language in languages() else DEFAULT_LANGUAGE)
    return (folder / f"{name}.txt").read_text(encoding="utf-8").strip()


def instructions(clinic_name: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The call's instructions, naming the clinic."""
    return load_prompt("instructions", language).replace("{clinic_name}", clinic_name)


__all__ = ["DEFAULT_LANGUAGE", "PROMPTS_DIR", "instructions", "languages", "load_prompt"]
