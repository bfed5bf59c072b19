"""Reschedule races across processes, as LiveKit's per-call processes would race.

Each worker is its own OS process with its own ClinicDB (its own SQLite connection) and its
own appointment. In every round all of them wait at one barrier, then try to move their
appointment onto the same open slot. Exactly one may win; the others must get `SlotTaken` and
keep the slot they had.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
from datetime import date, datetime, timedelta
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from clinic import ClinicDB, SlotTaken

PROCESSES = 6
ROUNDS = 5


def _worker(
    path: str, appointment_id: str, targets: list[str], barrier: Barrier, results: Any
) -> None:
    async def main() -> list[str]:
        db = ClinicDB(path, busy_timeout=30)
        await db.open()
        outcomes: list[str] = []
        for target in targets:
            barrier.wait(timeout=60)  # blocking is fine: nothing else runs in this process
            try:
                await db.reschedule(appointment_id, target)
                outcomes.append("won")
            except SlotTaken:
                outcomes.append("taken")
        await db.aclose()
        return outcomes

    try:
        results.put((appointment_id, asyncio.run(main())))
    except BaseException as exc:  # report, don't hang the parent
        results.put((appointment_id, [f"error: {exc!r}"]))
        raise


async def test_reschedule_race_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    db = ClinicDB(path)  # the real clock: the workers use it too
    base = datetime.combine(date.today() + timedelta(days=2), datetime.min.time()).replace(hour=8)
    own_slots = [await db.add_slot("Dr. Patel", base + timedelta(minutes=n)) for n in range(8)]
    targets = [
        await db.add_slot("Dr. Nguyen", base + timedelta(hours=1, minutes=n)) for n in range(ROUNDS)
    ]
    appointments: list[str] = []
    for n in range(PROCESSES):
        patient = await db.add_patient(f"Racer {n}", date(1980, 1, n + 1), f"+1415555010{n}")
        appointments.append(await db.book(patient, own_slots[n]))
    await db.aclose()

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(target=_worker, args=(str(path), a, targets, barrier, results))
        for a in appointments
    ]
    for worker in workers:
        worker.start()
    outcomes = dict(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0

    # Exactly one winner per round, every loser told SlotTaken.
    for round_no in range(ROUNDS):
        column = [outcomes[a][round_no] for a in appointments]
        assert sorted(column) == ["taken"] * (PROCESSES - 1) + ["won"], (round_no, column)

    # Every appointment is where its own history says, and no slot is double-booked.
    expected: dict[str, str] = {}
    for n, appointment_id in enumerate(appointments):
        won = [targets[r] for r in range(ROUNDS) if outcomes[appointment_id][r] == "won"]
        expected[appointment_id] = won[-1] if won else own_slots[n]
    conn = sqlite3.connect(path)
    try:
        stored = dict(
            conn.execute("SELECT id, slot_id FROM appointments WHERE status = 'booked'").fetchall()
        )
        per_slot = conn.execute(
            "SELECT slot_id, COUNT(*) FROM appointments WHERE status = 'booked'"
            " GROUP BY slot_id HAVING COUNT(*) > 1"
        ).fetchall()
        moves = conn.execute(
            "SELECT COUNT(*) FROM appointment_events WHERE action = 'rescheduled'"
        ).fetchone()
    finally:
        conn.close()
    assert stored == expected
    assert per_slot == []
    assert moves == (ROUNDS,)

    # A winner's previous slot opened again; a loser's slot stayed theirs.
    check = ClinicDB(path)
    for n, appointment_id in enumerate(appointments):
        still_there = expected[appointment_id] == own_slots[n]
        assert await check.is_slot_open(own_slots[n]) is not still_there
    await check.aclose()
