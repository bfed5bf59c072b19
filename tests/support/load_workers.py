"""Scripted calls in several worker processes that share one records database and one Redis,
as several LiveKit worker machines would: the multi-process load test's and `bench/records.py`'s
plumbing (no pytest imports).

Each worker process builds its own `Services` from URLs alone - `clinic.open_records(url)` for
the records, `RedisOtpStore.from_url` for the codes - and its own Twilio stand-in (its calls'
texts land there, so a call reads its code from its own worker), then plays its share of the
callers with `tests.support.load_scenario.run_calls`. The parent gets every `CallResult` back, and
who was texted, and checks the shared database itself.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from clinic import ClinicRecords, open_records
from tests.support.load_scenario import Caller, CallResult, load_services, run_calls
from tests.support.twilio_standin import TwilioStandIn


@dataclass(frozen=True, slots=True)
class WorkerJob:
    index: int
    records_url: str
    redis_url: str
    key_prefix: str
    callers: tuple[Caller, ...]
    pool_size: int = 4  # PostgreSQL connections for this worker's calls (one per call in LiveKit)


@dataclass(frozen=True, slots=True)
class WorkerReport:
    index: int
    results: tuple[CallResult, ...]
    texted: tuple[str, ...]  # the "To" of every text this worker's stand-in received
    seconds: float = 0.0  # wall time of the calls alone (not the worker's start-up)
    error: str | None = None


async def play(job: WorkerJob) -> WorkerReport:
    """One worker's calls, all at once, on backends built from the job's URLs."""
    twilio = TwilioStandIn()
    await twilio.start()
    clinic = open_records(job.records_url, pool_size=job.pool_size, timeout=30)
    services = load_services(clinic, job.redis_url, job.key_prefix, twilio)
    try:
        await clinic.open()
        await _warm(clinic, job.pool_size)
        started = time.perf_counter()
        results = await run_calls(services, list(job.callers), twilio)
        seconds = time.perf_counter() - started
        await services.otp.drain()
        texted = tuple(str(r.form.get("To")) for r in twilio.requests)
    finally:
        await services.aclose()
        await twilio.stop()
    return WorkerReport(job.index, tuple(results), texted, seconds)


async def _warm(clinic: ClinicRecords, connections: int) -> None:
    """Grow a PostgreSQL pool to its size before the calls, as a worker that has been up for
    a while would have it (a pool opens connections only as it is asked for them)."""
    for _ in range(3):
        await asyncio.gather(*(clinic.providers() for _ in range(connections)))
        await asyncio.sleep(0.2)


def _work(job: WorkerJob, reports: Any) -> None:
    try:
        reports.put(asyncio.run(play(job)))
    except BaseException:  # report, don't hang the parent
        reports.put(WorkerReport(job.index, (), (), error=traceback.format_exc()))
        raise


def split(callers: Sequence[Caller], workers: int) -> list[tuple[Caller, ...]]:
    """Round-robin, so the callers racing for one shared slot sit in different processes."""
    return [tuple(callers[n::workers]) for n in range(workers)]


def run_workers(jobs: Sequence[WorkerJob], *, timeout: float = 600) -> list[WorkerReport]:
    """Run each job in its own process (forked from one clean process that imported the
    project once) and return their reports in job order; raises if any worker failed."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    reports = context.Queue()
    processes = [context.Process(target=_work, args=(job, reports)) for job in jobs]
    for process in processes:
        process.start()
    got = sorted((reports.get(timeout=timeout) for _ in processes), key=lambda r: r.index)
    for process in processes:
        process.join(timeout=60)
    failed = [r.error for r in got if r.error]
    if failed:
        raise RuntimeError("a worker process failed:\n" + "\n".join(failed))
    return got
