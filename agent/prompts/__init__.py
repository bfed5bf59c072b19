"""The agent's instructions: text files beside this module, read once per process.

They are package data (`importlib.resources`), so an installed wheel carries them and the
agent finds them wherever it is installed.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def load_prompt(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8").strip()


def instructions(clinic_name: str) -> str:
    return load_prompt("instructions.txt").replace("{clinic_name}", clinic_name)
