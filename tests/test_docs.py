"""The docs only cite tests and files that exist (a threat's "covered by" must be true)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CITED_TEST = re.compile(r"(tests/[\w/]+\.py)::(\w+)")


def test_every_cited_test_exists() -> None:
    cited = {
        (path, name)
        for doc in ("docs/security.md", "docs/architecture.md", "docs/operations.md", "README.md")
        for path, name in CITED_TEST.findall((ROOT / doc).read_text())
    }
    assert len(cited) > 30, "the security model should name its tests"
    missing = [
        f"{path}::{name}"
        for path, name in sorted(cited)
        if not (ROOT / path).exists() or not re.search(rf"def {name}\b", (ROOT / path).read_text())
    ]
    assert missing == []


# a repository path as the docs write it: `agent/handoff.py`, `verification/stores/lua/*.lua`
CITED_FILE = re.compile(
    r"(?<![\w/.-])((?:agent|verification|clinic|tests|bench|prompts|examples|docs)/"
    r"[\w/.*-]+\.(?:py|md|txt|toml|lua|sql))"
)


def test_every_cited_file_exists() -> None:
    """A newcomer follows the docs to a file: every path they name must be there (a module
    that moved leaves no pointer behind)."""
    docs = [ROOT / "README.md", ROOT / "AGENTS.md", ROOT / "CHANGELOG.md"]
    docs += sorted((ROOT / "docs").glob("*.md"))
    cited = {(doc.name, path) for doc in docs for path in CITED_FILE.findall(doc.read_text())}
    assert len(cited) > 100
    missing = [
        f"{doc}: {path}"
        for doc, path in sorted(cited)
        if not (list(ROOT.glob(path)) if "*" in path else (ROOT / path).exists())
    ]
    assert missing == []


def test_every_threat_in_the_security_model_names_a_test() -> None:
    text = (ROOT / "docs" / "security.md").read_text()
    threats = text.split("\n## Threats\n", 1)[1].split("\n## ", 1)[0]
    sections = re.split(r"^### ", threats, flags=re.M)[1:]
    assert len(sections) >= 8  # brute force, races, enumeration, pumping, SIM swap, ...
    untested = [s.splitlines()[0] for s in sections if not CITED_TEST.search(s)]
    assert untested == []


def test_make_help_lists_every_target_with_one_line() -> None:
    """`make help` is where a newcomer looks first: every target of the Makefile, each on one
    line with what it does."""
    import shutil
    import subprocess

    make = shutil.which("make")
    assert make is not None
    makefile = (ROOT / "Makefile").read_text()
    phony = makefile.split(".PHONY:", 1)[1].split("\n\n", 1)[0].replace("\\", " ").split()
    shown = subprocess.run(
        [make, "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    described = {line.split()[0]: line for line in shown[1:]}
    assert set(described) == set(phony)
    assert all(len(line.split(None, 1)) == 2 for line in described.values())
