"""The house rules, held by the code itself.

* Data flows one way: agent -> (verification, clinic). The two cores never import LiveKit.
  `verification.livekit` (the plugin) is the one part of `verification` allowed to import
  livekit, the way a library ships its framework adapter; nothing else in `verification`
  imports it, and it imports neither `agent` nor `clinic`.
* The environment is read at the entry point only: `verification/settings.py` (the plugin's
  own `from_env`) and `agent/settings.py` (the app's); every other module is handed settings.
* The two records backends share no logic: only their transactions differ.
* Tests and benches share code through `tests/support/` only.
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


PRODUCT = ("agent", "verification", "clinic")
ENVIRONMENT_READERS = {ROOT / "verification" / "settings.py", ROOT / "agent" / "settings.py"}


def _reads_the_environment(source: Path) -> bool:
    tree = ast.parse(source.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv"):
            return True
        if isinstance(node, ast.Name) and node.id in ("load_dotenv", "getenv", "environ"):
            return True
    return False


def test_only_the_entry_points_read_the_environment() -> None:
    readers = {
        source
        for package in PRODUCT
        for source in (ROOT / package).rglob("*.py")
        if _reads_the_environment(source)
    }
    assert readers == ENVIRONMENT_READERS


RUN = 6
BACKEND_MODULES = ("sqlite.py", "postgres.py", "postgres_sql.py", "postgres_pool.py")


def _runs(path: Path) -> set[tuple[str, ...]]:
    """Every run of `RUN` consecutive code lines (not comments, not lone brackets)."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    windows = (tuple(lines[start : start + RUN]) for start in range(len(lines) - RUN + 1))
    return {window for window in windows if all(len(line) > 3 for line in window)}


def test_the_records_backends_share_no_logic() -> None:
    """No run of six identical lines stands in both backends: the rules, id handling and
    logging are `clinic.records.ClinicRecords`'s, the backends supply transactions."""
    clinic = ROOT / "clinic"
    sqlite = _runs(clinic / "sqlite.py")
    for other in BACKEND_MODULES[1:]:
        shared = sqlite & _runs(clinic / other)
        assert shared == set(), (other, sorted(shared)[:1])
    for backend in BACKEND_MODULES:
        imported = _imports(clinic / backend)
        assert not any(name.endswith((".sqlite", ".postgres")) for name in imported), backend


def test_benches_use_the_test_kit_only() -> None:
    offending = {
        f"{source.relative_to(ROOT)}: {name}"
        for source in (ROOT / "bench").rglob("*.py")
        for name in _imports(source)
        if name.startswith("tests.") and not name.startswith("tests.support")
    }
    assert offending == set()


def test_the_test_kit_lives_in_tests_support() -> None:
    """A test folder holds tests and a conftest; what several files share is in the kit."""
    loose = {
        str(source.relative_to(ROOT))
        for source in (ROOT / "tests").rglob("*.py")
        if "support" not in source.parts
        and source.name not in ("__init__.py", "conftest.py")
        and not source.name.startswith("test_")
    }
    assert loose == set()
