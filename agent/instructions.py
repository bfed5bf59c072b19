"""What the agent is told and what it says itself: plain text in `prompts/<language>/`.

Each language is a folder of text, no code: `instructions.txt` (what the model is told) and
`phrases.toml` (the sentences the agent says word for word: the greeting, the quiet-line
question, the apologies when a service fails). A clinic can reword them, and a new language
is a new folder. Each file is read once per process (the worker reads them in `prewarm`,
before a call); a language without a folder falls back to English. The container copies
`prompts/` beside `agent/`.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Final

PROMPTS_DIR: Final = Path(__file__).resolve().parent.parent / "prompts"
DEFAULT_LANGUAGE: Final = "en"


@cache
def languages() -> tuple[str, ...]:
    """The languages with a folder of their own ("en", "es", ...)."""
    return tuple(sorted(path.parent.name for path in PROMPTS_DIR.glob("*/instructions.txt")))


def _folder(language: str) -> Path:
    return PROMPTS_DIR / (language if language in languages() else DEFAULT_LANGUAGE)


@cache
def load_prompt(name: str, language: str = DEFAULT_LANGUAGE) -> str:
    """`prompts/<language>/<name>.txt`."""
    return (_folder(language) / f"{name}.txt").read_text(encoding="utf-8").strip()


@cache
def _phrases(language: str) -> dict[str, str]:
    text = (_folder(language) / "phrases.toml").read_text(encoding="utf-8")
    return {key: str(value) for key, value in tomllib.loads(text).items()}


def instructions(clinic_name: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The call's instructions, naming the clinic."""
    return load_prompt("instructions", language).replace("{clinic_name}", clinic_name)


def phrase(key: str, language: str = DEFAULT_LANGUAGE, /, **values: str) -> str:
    """One sentence the agent says as it is, in `language` (English where that language's
    folder lacks it), with `values` filled in."""
    text = _phrases(language).get(key) or _phrases(DEFAULT_LANGUAGE)[key]
    return text.format(**values)


def warm() -> None:
    """Read every language's files now (prewarm), not on a call's first turn."""
    for language in languages():
        load_prompt("instructions", language)
        _phrases(language)


__all__ = [
    "DEFAULT_LANGUAGE",
    "PROMPTS_DIR",
    "instructions",
    "languages",
    "load_prompt",
    "phrase",
    "warm",
]
