"""Print how fast the agent starts: `import agent.server`, and the typed console's greeting.

Two figures, each the median of several fresh processes:

* import: the seconds `import agent.server` takes in a new interpreter (measured inside the
  child around the import alone, so the interpreter's own start-up is not in it). This is what
  LiveKit's tools, `python -m agent start` and every job process pay before anything runs.
* greeting: `python -m agent console --text`, started in a pseudo-terminal as a developer
  starts it, against the local OpenAI stand-in (`tests/support/openai_standin.py`), from the
  process's start until the prompt "you > " shows, i.e. after the start-up checks, the
  services, the model client and the agent's greeting. One run first creates the records and
  the code store (not counted); the measured runs reuse them, as a developer's next start does.

With `--baseline DIR` (another checkout of the project, e.g. `git worktree add /tmp/base main`)
the two trees take turns, A B A B, with the same interpreter and packages, and each figure is
also printed as this tree / the baseline: ratios taken in the same run hold on a busy machine
where the seconds do not. The load average is printed at the start and the end.

    uv run python bench/startup.py [--runs 7] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.openai_standin import OpenAIStandin  # noqa: E402
from tests.support.typed_console import TypedConsole  # noqa: E402

IMPORT_SERVER = (
    "import time; wall, cpu = time.perf_counter(), time.process_time(); import agent.server; "
    "print(time.perf_counter() - wall, time.process_time() - cpu)"
)
PROMPT = "you > "
# variables of the developer's own setup that would change what starts (keys, providers)
FOREIGN = ("OPENAI_", "DEEPGRAM_", "LIVEKIT_", "TWILIO_", "SMS_", "REDIS_", "VONAGE_", "AWS_")


def environment(tree: Path, home: Path, **extra: str) -> dict[str, str]:
    """This machine's environment without keys, the records and codes under `home`, and
    `tree` first on the import path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    env.update(
        PYTHONPATH=str(tree),
        APP_ENV="development",
        CLINIC_NAME="Bayview Clinic",
        CLINIC_DATABASE_URL=f"sqlite:///{home / 'clinic.sqlite3'}",
        OTP_SQLITE_PATH=str(home / "otp.sqlite3"),
        OTP_PEPPER_FILE=str(home / "otp-pepper"),
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


Timing = tuple[float, float]  # (wall, CPU) seconds


def import_seconds(tree: Path, home: Path) -> Timing:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_SERVER],
        cwd=home,  # no .env.local of the developer's is read
        env=environment(tree, home),
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


async def greeting_seconds(tree: Path, home: Path, model: OpenAIStandin) -> Timing:
    env = environment(tree, home, OPENAI_BASE_URL=model.base_url)
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


def summary(values: list[float]) -> str:
    ms = sorted(v * 1e3 for v in values)
    return f"{statistics.median(ms):6.0f} ms ({ms[0]:.0f}-{ms[-1]:.0f})"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    args = parser.parse_args()
    trees = {"this tree": ROOT}
    if args.baseline is not None:
        trees["baseline"] = args.baseline.resolve()
    print(f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}")
    model = OpenAIStandin()
    await model.start()
    figures: dict[str, dict[str, list[Timing]]] = {
        name: {"import agent.server": [], "console to greeting": []} for name in trees
    }
    try:
        with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
            homes = {name: Path(tmp) / str(i) for i, name in enumerate(trees)}
            for name, tree in trees.items():  # warm-up: files created, caches filled
                homes[name].mkdir()
                import_seconds(tree, homes[name])
                await greeting_seconds(tree, homes[name], model)
            for _ in range(args.runs):
                for name, tree in trees.items():
                    mine = figures[name]
                    mine["import agent.server"].append(import_seconds(tree, homes[name]))
                    mine["console to greeting"].append(
                        await greeting_seconds(tree, homes[name], model)
                    )
    finally:
        await model.stop()
    print(f"load average at end {os.getloadavg()[0]:.1f}; {args.runs} runs each: median (range)")
    for name, tree in trees.items():
        print(f"{name} ({tree}):")
        for label, timings in figures[name].items():
            walls, cpus = [w for w, _ in timings], [c for _, c in timings]
            print(f"  {label:<20} wall {summary(walls)}   CPU {summary(cpus)}")
    if args.baseline is not None:
        print("this tree / baseline (median of the pairs, run by run):")
        for label in figures["this tree"]:
            pairs = zip(figures["this tree"][label], figures["baseline"][label], strict=True)
            ratios = [(a[0] / b[0], a[1] / b[1]) for a, b in pairs]
            wall = statistics.median(r[0] for r in ratios)
            cpu = statistics.median(r[1] for r in ratios)
            print(f"  {label:<20} wall {wall:.2f}x   CPU {cpu:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
