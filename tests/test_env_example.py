"""Every environment variable the code reads is documented in `.env.example`."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# env.get("NAME" / env["NAME"] / get("NAME" / _get(env, "NAME" / env_int(env, "NAME" ...
READ = re.compile(
    r"""(?:env(?:iron)?\.get\(|env\[|\bget\(|_get\(env,\s*|env_(?:int|number|flag)\(env,\s*|"""
    r"""_number\(env,\s*)"([A-Z][A-Z0-9_]+)\"""",
)
# names that belong to other tools and are documented by them
NOT_OURS = {"AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}


def test_every_variable_read_is_in_env_example() -> None:
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    read: set[str] = set()
    for package in ("verification", "clinic", "agent"):
        for source in (ROOT / package).rglob("*.py"):
            read |= set(READ.findall(source.read_text()))
    config = (ROOT / "verification" / "config.py").read_text()
    for table in re.findall(r"_POLICY_VARIABLES = \{(.*?)\}", config, re.S):
        read |= set(re.findall(r'"([A-Z][A-Z0-9_]+)"', table))
    assert len(read) > 30, "the pattern stopped finding variables"
    assert read - NOT_OURS - documented == set()
