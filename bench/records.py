"""Benchmark the clinic records: PostgreSQL writes against a bare write transaction, and
whole calls on SQLite against PostgreSQL, each compared in the same run.

Writes (`--only writes`): `PostgresRecords.book`, `reschedule` and `cancel` (each task loops
over its own patient and two slots: book, move, cancel), against a bare write transaction on
the same pool (`BEGIN; INSERT one row; COMMIT`, through the same pooled-connection path), at
1 and at 16 concurrent tasks, in short interleaved rounds (the order alternates); printed as
writes/s (median round) and the median of the rounds' ratios. Also shown: one autocommit
INSERT, the least any write can cost (one round trip). Every commit waits for the disk, as in
production; `--synchronous-commit off` (this throwaway database only) takes the disk out, so
what is timed is round trips and the server's work.

Calls (`--only calls`): the load test's calls (`tests/load/scenario.py`: identify, request
a code, one wrong code, the right code, a refused try at a neighbour's appointment, cancel or
reschedule, with a few slots raced for), on records opened by URL (`clinic.open_records`),
codes on a private redis-server, texts to the local Twilio stand-in. With `--workers 1` all
calls run in this process; with more, each worker is its own process (`tests/load/workers.py`),
sharing the one database and the one Redis as several machines would. Backends alternate round
by round on a fresh database each time; the figures are the median round (calls/s) and all
rounds' tool latencies together (p50/p99, from the model's function-call item to the tool's
output item).

    uv run python bench/records.py [--only writes|calls] [--seconds 1] [--write-rounds 9]
        [--calls 200] [--workers 4] [--rounds 3] [--pool-size 8]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clinic import PostgresRecords, open_records
from tests.support.load_checks import ended_right
from tests.support.load_scenario import CallResult, populate
from tests.support.load_workers import WorkerJob, WorkerReport, play, run_workers, split
from tests.support.postgres import PostgresDatabase
from tests.support.redis_server import RedisServer
from tests.support.stats import p50_p99, paired_ratio

RECORDS_TOOLS = ("verify_identity", "cancel_appointment", "reschedule_appointment")
WRITE_TASKS = (1, 16)
ALL_TOOLS = (*RECORDS_TOOLS, "request_otp", "verify_otp")


@dataclass
class Figures:
    rates: list[float] = field(default_factory=list)
    results: list[CallResult] = field(default_factory=list)

    def latencies(self, tool: str) -> list[float]:
        return [s.latency for r in self.results for s in r.steps if s.tool == tool]


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


async def write_rates(admin_url: str, seconds: float, rounds: int, *, sync_commit: bool) -> None:
    """PostgreSQL writes against a bare write transaction on the same pool (module docstring)."""
    database = PostgresDatabase(admin_url)
    database.create()
    try:
        if not sync_commit:  # this throwaway database only: commits stop waiting for the disk
            database.execute(f'ALTER DATABASE "{database.name}" SET synchronous_commit = off')
        schema = database.fresh_schema()
        records = PostgresRecords(database.url(schema), pool_size=max(WRITE_TASKS))
        await records.open()
        pairs = await _write_fixtures(records, max(WRITE_TASKS))
        database.execute(
            f"CREATE TABLE {schema}.bench_writes (id BIGINT GENERATED ALWAYS AS IDENTITY"
            " PRIMARY KEY, task INT NOT NULL, at TIMESTAMP(0) NOT NULL)"
        )

        async def records_writes(task: int, deadline: float) -> int:
            patient, first, second = pairs[task]
            done = 0
            while time.perf_counter() < deadline:
                appointment = await records.book(patient, first)
                await records.reschedule(appointment, second)
                await records.cancel(appointment)
                done += 3
            return done

        async def bare(task: int, deadline: float, *, transaction: bool) -> int:
            done = 0
            while time.perf_counter() < deadline:
                async with records.backend.connection() as conn:
                    if transaction:
                        async with conn.transaction():
                            await conn.execute(_BARE_INSERT, (task, datetime.now()))
                    else:
                        await conn.execute(_BARE_INSERT, (task, datetime.now()))
                done += 1
            return done

        sides: dict[str, WriteSide] = {
            "records": records_writes,
            "transaction": lambda n, d: bare(n, d, transaction=True),
            "statement": lambda n, d: bare(n, d, transaction=False),
        }
        for name in sides:  # grow the pool to its size and prepare the statements first
            await _rate(sides[name], max(WRITE_TASKS), min(seconds, 1.0))
        print(
            f"PostgreSQL writes/s: {rounds} interleaved rounds of {seconds:g} s per side,"
            f" pool of {max(WRITE_TASKS)}, synchronous_commit {'on' if sync_commit else 'off'}"
        )
        for tasks in WRITE_TASKS:
            got: dict[str, list[float]] = {name: [] for name in sides}
            for n in range(rounds):
                order = list(sides) if n % 2 == 0 else list(reversed(sides))
                for name in order:
                    got[name].append(await _rate(sides[name], tasks, seconds))
            rate = {name: statistics.median(values) for name, values in got.items()}
            print(
                f"  {tasks:>2} task(s): book/reschedule/cancel {rate['records']:6.0f}/s,"
                f" bare write transaction {rate['transaction']:6.0f}/s"
                f" -> {paired_ratio(got['records'], got['transaction']):.2f}x;"
                f" one autocommit INSERT {rate['statement']:6.0f}/s"
                f" -> {paired_ratio(got['records'], got['statement']):.2f}x"
            )
        await records.aclose()
    finally:
        database.drop()


WriteSide = Callable[[int, float], Awaitable[int]]
_BARE_INSERT = "INSERT INTO bench_writes (task, at) VALUES (%s, %s)"


async def _rate(side: WriteSide, tasks: int, seconds: float) -> float:
    started = time.perf_counter()
    done = await asyncio.gather(*(side(n, started + seconds) for n in range(tasks)))
    return sum(done) / (time.perf_counter() - started)


async def _write_fixtures(records: PostgresRecords, tasks: int) -> list[tuple[str, str, str]]:
    """A patient and two future slots per task: book one, move to the other, cancel, again."""
    base = datetime.combine(records.now().date() + timedelta(days=3), datetime.min.time())
    pairs = []
    for n in range(tasks):
        patient = await records.add_patient(
            f"Bench {chr(65 + n)}ace Writer", date(1970, 1, 1 + n), f"+1415555{n:04d}"
        )
        first = await records.add_slot("Dr. Bench", base + timedelta(minutes=n))
        second = await records.add_slot("Dr. Bench", base + timedelta(hours=1, minutes=n))
        pairs.append((patient, first, second))
    return pairs


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
    parser.add_argument("--only", choices=("writes", "calls"), help="one part (default: both)")
    parser.add_argument("--seconds", type=float, default=1.0, help="per side per write round")
    parser.add_argument("--write-rounds", type=int, default=9)
    parser.add_argument(
        "--synchronous-commit", choices=("on", "off"), default="on",
        help="off: commits do not wait for the disk, so round trips and CPU are what is timed",
    )  # fmt: skip
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
    if args.only in (None, "writes"):
        sync_commit = args.synchronous_commit == "on"
        asyncio.run(
            write_rates(args.postgres, args.seconds, args.write_rounds, sync_commit=sync_commit)
        )
    if args.only in (None, "calls"):
        main(
            args.calls, args.workers, args.rounds, args.shared_slots, args.pool_size, args.postgres
        )
