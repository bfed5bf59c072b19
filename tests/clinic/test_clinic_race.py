"""Booking and rescheduling races across processes, on both backends.

Each worker is its own OS process with its own records (its own connection or pool), as
LiveKit's per-call processes - or several machines - would be, with its own patient and its
own appointment. In every round all of them wait at one barrier, then go for the same open
slot: half book it for their patient, half move their appointment onto it. Exactly one may
win; every other gets `SlotTaken` and keeps what it had. Afterwards no slot is booked twice
and no appointment was lost or doubled.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from datetime import date, datetime, timedelta
from multiprocessing.synchronize import Barrier
from typing import Any, Literal

from clinic import SlotTaken, open_records
from tests.support.records import Backend

PROCESSES = 6
ROUNDS = 6

Action = Literal["book", "reschedule"]


def _action(worker: int, round_no: int) -> Action:
    return "book" if (worker + round_no) % 2 == 0 else "reschedule"


def _worker(
    url: str,
    worker: int,
    patient_id: str,
    appointment_id: str,
    targets: list[str],
    barrier: Barrier,
    results: Any,
) -> None:
    async def main() -> list[str]:
        records = open_records(url, timeout=30)
        await records.open()
        outcomes: list[str] = []
        for round_no, target in enumerate(targets):
            barrier.wait(timeout=60)  # blocking is fine: nothing else runs in this process
            try:
                if _action(worker, round_no) == "book":
                    outcomes.append("won:" + await records.book(patient_id, target))
                else:
                    await records.reschedule(appointment_id, target)
                    outcomes.append("won:" + appointment_id)
            except SlotTaken:
                outcomes.append("taken")
        await records.aclose()
        return outcomes

    try:
        results.put((worker, asyncio.run(main())))
    except BaseException as exc:  # report, don't hang the parent
        results.put((worker, [f"error: {exc!r}"]))
        raise


async def test_reschedule_race_across_processes(backend: Backend) -> None:
    """Bookings and reschedules onto the same slots, from several processes at once."""
    records = backend.new()  # the real clock: the workers use it too
    base = datetime.combine(date.today() + timedelta(days=2), datetime.min.time()).replace(hour=8)
    own_slots = [
        await records.add_slot("Dr. Patel", base + timedelta(minutes=n)) for n in range(PROCESSES)
    ]
    targets = [
        await records.add_slot("Dr. Nguyen", base + timedelta(hours=1, minutes=n))
        for n in range(ROUNDS)
    ]
    patients: list[str] = []
    appointments: list[str] = []
    for n in range(PROCESSES):
        name = "Racer " + "abcdefgh"[n].upper() + "ace"
        patients.append(await records.add_patient(name, date(1980, 1, n + 1), f"+1415555010{n}"))
        appointments.append(await records.book(patients[-1], own_slots[n]))
    await records.aclose()

    # forkserver: one clean process imports the project once, and forks each worker from it
    # (spawn would import it six times at once; fork would copy this test's event loop).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["clinic", __name__])
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(
            target=_worker,
            args=(backend.url, n, patients[n], appointments[n], targets, barrier, results),
        )
        for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    outcomes = dict(results.get(timeout=180) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0, outcomes

    # Exactly one winner per round, every loser told SlotTaken.
    winners: list[tuple[int, str]] = []
    for round_no in range(ROUNDS):
        column = [outcomes[n][round_no] for n in range(PROCESSES)]
        won = [n for n in range(PROCESSES) if column[n].startswith("won:")]
        assert len(won) == 1 and column.count("taken") == PROCESSES - 1, (round_no, column)
        winners.append((won[0], column[won[0]].removeprefix("won:")))

    # Where every appointment must be, from the winners' history alone.
    expected = dict(zip(appointments, own_slots, strict=True))
    for round_no, (_, appointment_id) in enumerate(winners):
        expected[appointment_id] = targets[round_no]  # a new booking, or a move (last one wins)
    stored: dict[object, object] = dict(
        backend.rows("SELECT id, slot_id FROM appointments WHERE status = 'booked'")
    )
    assert stored == expected  # none lost, none doubled, each where its history says
    doubled = backend.rows(
        "SELECT slot_id FROM appointments WHERE status = 'booked'"
        " GROUP BY slot_id HAVING COUNT(*) > 1"
    )
    assert doubled == []
    books = sum(_action(w, r) == "book" for r, (w, _) in enumerate(winners))
    events: dict[object, object] = dict(
        backend.rows("SELECT action, COUNT(*) FROM appointment_events GROUP BY action")
    )
    assert events.get("booked") == PROCESSES + books
    assert events.get("rescheduled", 0) == ROUNDS - books

    # A mover's previous slot opened again; a loser's slot stayed theirs.
    check = backend.new()
    for n, appointment_id in enumerate(appointments):
        assert await check.is_slot_open(own_slots[n]) is (expected[appointment_id] != own_slots[n])
    await check.aclose()
