"""Every environment variable the code reads is documented in `.env.example`.

Readers are found in the syntax tree, not by a pattern over the text: any call of a reader
(`env.get`, `os.getenv`, `env_text` / `env_int` / `env_number` / `env_flag`, the modules' own
`_get` / `_number` / `_missing` / `_optional_*` helpers, and any other function handed the
`env` mapping itself) with an ALL_CAPS string among its arguments (also inside a tuple),
any `env["NAME"]` / `os.environ["NAME"]`, and the names in a `*_VARIABLES` table.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("verification", "clinic", "agent")
NAME = re.compile(r"[A-Z][A-Z0-9_]{2,}")
READER = re.compile(r"(get|getenv|_get|_number|_missing|env_\w+|_optional_\w+)")
ENV_MAPPINGS = {"env", "environ"}
# AWS credentials belong to boto3's standard chain and are documented by AWS: listing them
# empty in .env.example would shadow an instance or task role once copied to .env.local.
NOT_OURS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}


def _callee(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _names_in(node: ast.AST) -> set[str]:
    return {
        n.value
        for n in ast.walk(node)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and NAME.fullmatch(n.value)
    }


def _mapping_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def variables_read(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and (
            READER.fullmatch(_callee(node))
            or any(_mapping_name(argument) in ENV_MAPPINGS for argument in node.args)
        ):
            for argument in node.args:
                found |= _names_in(argument)
        elif isinstance(node, ast.Subscript) and _mapping_name(node.value) in ENV_MAPPINGS:
            found |= _names_in(node.slice)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id.endswith("_VARIABLES") for t in node.targets
        ):
            found |= _names_in(node.value)
    return found


def test_every_variable_read_is_in_env_example() -> None:
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    read: set[str] = set()
    for package in PACKAGES:
        for source in (ROOT / package).rglob("*.py"):
            read |= variables_read(source.read_text())
    assert len(read) > 40, "the finder stopped finding variables"
    assert read - NOT_OURS - documented == set()


def test_the_finder_sees_every_kind_of_reader() -> None:
    source = """
import os
a = os.environ.get("ONE_VAR", "")
b = env_text(env, "TWO_VAR", "x")
c = os.environ["THREE_VAR"]
d = _missing(env, "sns", ("FOUR_VAR", "FIVE_VAR"))
e = os.getenv("SIX_VAR")
_POLICY_VARIABLES = {"SEVEN_VAR": "ttl"}
f = headers.get("Authorization")
g = _positive(env, "EIGHT_VAR", 1.0)
h = describe("NOT_A_VAR")
"""
    assert variables_read(source) == {
        "ONE_VAR",
        "TWO_VAR",
        "THREE_VAR",
        "FOUR_VAR",
        "FIVE_VAR",
        "SIX_VAR",
        "SEVEN_VAR",
        "EIGHT_VAR",
    }
