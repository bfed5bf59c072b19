"""Data flows one way: agent -> (verification, clinic). The two cores never import LiveKit.

`verification.livekit` (the plugin) is the one part of `verification` allowed to import
livekit, the way a library ships its framework adapter; nothing else in `verification`
imports it, and it imports neither `agent` nor `clinic`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("livekit", "agent")
PLUGIN = ROOT / "verification" / "livekit"


def _imports(source: Path) -> set[str]:
    tree = ast.parse(source.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["verification", "clinic"])
def test_core_packages_import_neither_livekit_nor_agent(package: str) -> None:
    offending = {
        f"{source.relative_to(ROOT)}: {name}"
        for source in (ROOT / package).rglob("*.py")
        if PLUGIN not in source.parents
        for name in _imports(source)
        if name.split(".")[0] in FORBIDDEN or name.startswith("verification.livekit")
    }
    assert offending == set()


def test_the_plugin_imports_neither_agent_nor_clinic() -> None:
    offending = {
        f"{source.relative_to(ROOT)}: {name}"
        for source in PLUGIN.rglob("*.py")
        for name in _imports(source)
        if name.split(".")[0] in ("agent", "clinic")
    }
    assert offending == set()


@pytest.mark.parametrize("package", ["verification", "clinic"])
def test_importing_a_core_package_loads_no_livekit_module(package: str) -> None:
    probe = (
        f"import sys, {package}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('livekit', 'agent')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_tests_share_code_through_tests_support_only() -> None:
    """A conftest holds fixtures and a test module holds tests: what several suites share
    lives in `tests/support/`, so nothing imports a conftest or another test module."""
    offending = {
        f"{source.relative_to(ROOT)}: {name}"
        for folder in ("tests", "bench")
        for source in (ROOT / folder).rglob("*.py")
        for name in _imports(source)
        if name.startswith("tests.")
        and (name.rsplit(".", 1)[-1] == "conftest" or name.rsplit(".", 1)[-1].startswith("test_"))
    }
    assert offending == set()
