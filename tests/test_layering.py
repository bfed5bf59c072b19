"""Data flows one way: agent -> (verification, clinic). The two cores never import LiveKit."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("livekit", "agent")


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
        for name in _imports(source)
        if name.split(".")[0] in FORBIDDEN
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
