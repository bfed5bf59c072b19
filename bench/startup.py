"""Print how fast the agent starts: `import agent.server`, and the typed console's greeting.

Three figures, each the median of several fresh processes:

* help: `python -m agent --help`, the whole process: what the command line costs before it
  runs anything (a missing setting and a refused key are reported from the same place).
* import: `import agent.server` in a new interpreter, timed inside the child around the
  import alone (the interpreter's own start is not in it). LiveKit's tools, `python -m agent
  start` and every job process pay it before anything runs.
* greeting: `python -m agent console --text`, started in a pseudo-terminal as a developer
  starts it, against the local OpenAI stand-in (`tests/support/openai_standin.py`), from the
  process's start until the prompt "you > " shows: the settings, the start-up check, the
  imports, the services, the model client, the agent's greeting. One run first creates the
  records and the code store (not counted); the measured runs reuse them, as a developer's
  next start does.

Each is measured two ways, because Python's bytecode cache decides half of it:

* compiled: modules load from a bytecode cache (`PYTHONPYCACHEPREFIX`, filled by a first run
  that is not counted): a developer's machine after the first start, and the Docker image,
  which compiles its dependencies when it is built;
* from source: no cache, every module compiled on every start (`PYTHONDONTWRITEBYTECODE=1`
  with an empty cache), which is what a machine that never writes bytecode pays.

Wall is elapsed time; CPU is the child's user + system time, which a busy machine disturbs
less. With `--baseline DIR` (another checkout, e.g. `git worktree add /tmp/base main`) both
trees run in turn, A B A B, with the same interpreter and packages, and each figure is also
printed as this tree / the baseline, pair by pair. The load average is printed at the start
and the end.

    uv run python bench/startup.py [--runs 5] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.agent_env import keyless_env  # noqa: E402
from tests.support.openai_standin import OpenAIStandin  # noqa: E402
from tests.support.stats import paired_ratio  # noqa: E402
from tests.support.typed_console import TypedConsole  # noqa: E402

IMPORT_SERVER = (
    "import time; wall, cpu = time.perf_counter(), time.process_time(); import agent.server; "
    "print(time.perf_counter() - wall, time.process_time() - cpu)"
)
PROMPT = "you > "
# what `keyless_env` leaves of the developer's setup that would still change what starts:
# the other text providers' keys, and bytecode settings
ALSO_FOREIGN = ("VONAGE_", "AWS_", "PYTHONDONTWRITE")
MODES = ("compiled", "from source")
FIGURES = ("python -m agent --help", "import agent.server", "console to greeting")

Timing = tuple[float, float]  # (wall, CPU) seconds


def environment(tree: Path, home: Path, mode: str, **extra: str) -> dict[str, str]:
    """This machine's environment without keys or bytecode settings, the records and codes
    under `home`, `tree` first on the import path, and the bytecode cache of `mode`."""
    keyless = keyless_env(
        home,
        PYTHONPATH=str(tree),
        APP_ENV="development",
        PYTHONPYCACHEPREFIX=str(home / mode.replace(" ", "-")),
        LOG_LEVEL="WARNING",
    )
    env = {k: v for k, v in keyless.items() if not k.startswith(ALSO_FOREIGN)}
    if mode == "from source":
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def help_seconds(tree: Path, home: Path, mode: str) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "agent", "--help"],
        cwd=home,
        env=environment(tree, home, mode),
        capture_output=True,
        timeout=300,
        check=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def import_seconds(tree: Path, home: Path, mode: str) -> Timing:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_SERVER],
        cwd=home,  # no .env.local of the developer's is read
        env=environment(tree, home, mode),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    wall, cpu = done.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def cpu_seconds(pid: int) -> float:
    """User + system CPU a running process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def greeting_seconds(tree: Path, home: Path, mode: str, model: OpenAIStandin) -> Timing:
    env = environment(tree, home, mode, OPENAI_BASE_URL=model.base_url)
    started = time.perf_counter()
    with TypedConsole(home, env) as console:
        if not await console.wait_for(PROMPT, timeout=300):
            raise RuntimeError(f"no greeting from {tree}:\n{console.tail()}")
        wall = time.perf_counter() - started
        assert console.process is not None
        cpu = cpu_seconds(console.process.pid)
        console.end_of_input()
        console.exit_status()
    return wall, cpu


async def measure(tree: Path, home: Path, mode: str, model: OpenAIStandin) -> list[Timing]:
    return [
        help_seconds(tree, home, mode),
        import_seconds(tree, home, mode),
        await greeting_seconds(tree, home, mode, model),
    ]


def summary(values: list[float]) -> str:
    ms = sorted(v * 1e3 for v in values)
    return f"{statistics.median(ms):6.0f} ms ({ms[0]:.0f}-{ms[-1]:.0f})"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    args = parser.parse_args()
    trees = {"this tree": ROOT}
    if args.baseline is not None:
        trees["baseline"] = args.baseline.resolve()
    print(f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}")
    # results[mode][tree][figure] -> one timing per run
    results = {m: {t: {f: list[Timing]() for f in FIGURES} for t in trees} for m in MODES}
    model = OpenAIStandin()
    await model.start()
    try:
        with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
            homes = {name: Path(tmp) / f"tree-{i}" for i, name in enumerate(trees)}
            for name, tree in trees.items():  # first runs: records, codes, bytecode cache
                homes[name].mkdir()
                for mode in MODES:
                    await measure(tree, homes[name], mode, model)
            for _ in range(args.runs):
                for mode in MODES:
                    for name, tree in trees.items():
                        timings = await measure(tree, homes[name], mode, model)
                        for figure, timing in zip(FIGURES, timings, strict=True):
                            results[mode][name][figure].append(timing)
    finally:
        await model.stop()
    print(f"load average at end {os.getloadavg()[0]:.1f}; {args.runs} runs each: median (range)")
    report(results, trees, with_baseline=args.baseline is not None)
    return 0


def report(
    results: dict[str, dict[str, dict[str, list[Timing]]]],
    trees: dict[str, Path],
    *,
    with_baseline: bool,
) -> None:
    for mode in MODES:
        print(f"\n{mode}:")
        for name, tree in trees.items():
            print(f"  {name} ({tree})")
            for figure, timings in results[mode][name].items():
                walls, cpus = [w for w, _ in timings], [c for _, c in timings]
                print(f"    {figure:<22} wall {summary(walls)}   CPU {summary(cpus)}")
        if with_baseline:
            print("  this tree / baseline, median of the pairs:")
            this_tree, baseline_tree = results[mode]["this tree"], results[mode]["baseline"]
            for figure in FIGURES:
                ours, baseline = this_tree[figure], baseline_tree[figure]
                wall = paired_ratio([w for w, _ in ours], [w for w, _ in baseline])
                cpu = paired_ratio([c for _, c in ours], [c for _, c in baseline])
                print(f"    {figure:<22} wall {wall:.2f}x   CPU {cpu:.2f}x")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
