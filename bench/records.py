"""Benchmark the clinic records under whole calls: SQLite vs PostgreSQL, in the same run.

The calls are the load test's (`tests/load/scenario.py`: identify, request a code, one wrong
code, the right code, a refused try at a neighbour's appointment, cancel or reschedule, with
a few slots raced for), on records opened by URL (`clinic.open_records`), codes on a private
redis-server, texts to the local Twilio stand-in. With `--workers 1` all calls run in this
process; with more, each worker is its own process (`tests/load/workers.py`), sharing the one
database and the one Redis as several machines would. Backends alternate round by round on a
fresh database each time; the figures are the median round (calls/s) and all rounds' tool
latencies together (p50/p99, from the model's function-call item to the tool's output item).

    uv run python bench/records.py [--calls 200] [--workers 4] [--rounds 3] [--pool-size 8]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clinic import open_records
from tests.load.scenario import CallResult, populate
from tests.load.workers import WorkerJob, WorkerReport, play, run_workers, split
from tests.support.postgres import PostgresDatabase
from tests.support.redis_server import RedisServer

RECORDS_TOOLS = ("verify_identity", "cancel_appointment", "reschedule_appointment")
ALL_TOOLS = (*RECORDS_TOOLS, "request_otp", "verify_otp")


@dataclass
class Figures:
    rates: list[float] = field(default_factory=list)
    results: list[CallResult] = field(default_factory=list)

    def latencies(self, tool: str) -> list[float]:
        return [s.latency for r in self.results for s in r.steps if s.tool == tool]


def p50_p99(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {statistics.median(values) * 1000:7.1f} ms   p99 {cuts[98] * 1000:7.1f} ms"


def ended_right(result: CallResult) -> bool:
    last = result.steps[-1]
    want = "Cancelled" if result.caller.action == "cancel" else "Moved to"
    return not last.is_error and last.output.startswith(want)


def one_round(
    url: str, redis_url: str, calls: int, workers: int, shared: int, pool_size: int
) -> Figures:
    async def setup() -> list[WorkerJob]:
        records = open_records(url)
        callers = await populate(records, calls, shared_slots=shared)
        await records.aclose()
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        return [
            WorkerJob(n, url, redis_url, prefix, share, pool_size)
            for n, share in enumerate(split(callers, workers))
        ]

    jobs = asyncio.run(setup())
    reports: list[WorkerReport] = (
        [asyncio.run(play(jobs[0]))] if workers == 1 else run_workers(jobs)
    )
    results = [r for report in reports for r in report.results]
    ok = sum(ended_right(r) for r in results)
    if ok != calls:
        raise RuntimeError(f"only {ok}/{calls} calls ended in the right state")
    return Figures([calls / max(r.seconds for r in reports)], results)


def main(
    calls: int, workers: int, rounds: int, shared: int, pool_size: int, admin_url: str
) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="records-bench-"))
    redis = RedisServer(tmp / "redis")
    redis.start()
    database = PostgresDatabase(admin_url)
    database.create()
    figures = {"sqlite": Figures(), "postgresql": Figures()}
    urls: dict[str, Callable[[int], str]] = {
        "sqlite": lambda n: f"sqlite:///{tmp}/clinic-{n}.sqlite3",
        "postgresql": lambda n: database.url(database.fresh_schema()),
    }
    try:
        for n in range(rounds):
            for name in ("sqlite", "postgresql") if n % 2 == 0 else ("postgresql", "sqlite"):
                got = one_round(urls[name](n), redis.url, calls, workers, shared, pool_size)
                figures[name].rates += got.rates
                figures[name].results += got.results
    finally:
        database.drop()
        redis.stop()

    where = "in one process" if workers == 1 else f"over {workers} worker processes"
    print(
        f"{calls} concurrent scripted calls {where}, codes on Redis, {rounds} rounds,"
        f" PostgreSQL pool {pool_size} per process"
    )
    for name, got in figures.items():
        print(
            f"  {name:<10} {statistics.median(got.rates):6.1f} calls/s (median round;"
            f" rounds: {', '.join(f'{r:.1f}' for r in got.rates)})"
        )
        for tool in ALL_TOOLS:
            values = got.latencies(tool)
            print(f"    {tool:<23} n={len(values):<5} {p50_p99(values)}")
    ratio = statistics.median(figures["postgresql"].rates) / statistics.median(
        figures["sqlite"].rates
    )
    print(f"  PostgreSQL / SQLite calls per second: {ratio:.2f}x")


if __name__ == "__main__":
    logging.basicConfig(level=logging.CRITICAL)  # the audit trail is not what is measured here
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shared-slots", type=int, default=5)
    parser.add_argument(
        "--pool-size", type=int, default=8,
        help="PostgreSQL connections per worker process (a LiveKit call process needs one)",
    )  # fmt: skip
    parser.add_argument(
        "--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="an admin URL: the bench creates a throwaway database there and drops it",
    )  # fmt: skip
    args = parser.parse_args()
    main(args.calls, args.workers, args.rounds, args.shared_slots, args.pool_size, args.postgres)
