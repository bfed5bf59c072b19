"""Languages: each one a folder of text, no code.

`verification/languages/<code>/` holds what verification says and reads in that language:

* `messages.toml`: the text message and the automated call that carry a code;
* `numbers.toml`: the words people (and speech-to-text) use for digits, numbers and months.

Adding a language is adding a folder with both files (and, for the clinic app, its prompts
in `prompts/<code>/`). `read(language, name)` is the one way code gets at them; an unknown
language falls back to `DEFAULT_LANGUAGE`, so a call is never refused for its language.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files
from typing import Any, Final

DEFAULT_LANGUAGE: Final = "en"


@cache
def available() -> tuple[str, ...]:
    """The language codes that have a folder here, sorted ("en", "es", ...)."""
    root = files(__package__)
    return tuple(
        sorted(
            entry.name
            for entry in root.iterdir()
            if entry.is_dir() and entry.joinpath("messages.toml").is_file()
        )
    )


def language_or_default(language: str | None) -> str:
    """`language` ("es", "es-US", "ES") as one of `available()`, else `DEFAULT_LANGUAGE`."""
    if not isinstance(language, str):
        return DEFAULT_LANGUAGE
    code = language.strip().lower().replace("_", "-").split("-")[0]
    return code if code in available() else DEFAULT_LANGUAGE


@cache
def read(language: str, name: str) -> dict[str, Any]:
    """The table `<language>/<name>.toml` (`language` as `language_or_default` reads it)."""
    folder = files(__package__).joinpath(language_or_default(language))
    return tomllib.loads(folder.joinpath(f"{name}.toml").read_text(encoding="utf-8"))


__all__ = ["DEFAULT_LANGUAGE", "available", "language_or_default", "read"]
