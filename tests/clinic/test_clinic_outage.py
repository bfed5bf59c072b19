"""PostgreSQL going away, before or in the middle of an operation.

Whatever fails - no server at all, or the server cutting our connection while a write is
inside the server, waiting for a lock - the caller gets `clinic.Unavailable` (whose sentence
offers staff), nothing is half-written, and the next operation after that just works.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from datetime import date, timedelta
from typing import Any

import pytest

from clinic import ClinicError, PostgresRecords, Unavailable
from tests.support.ports import free_port
from tests.support.records import START, FakeClock, PostgresSchema, snapshot

pytestmark = pytest.mark.postgres

TOMORROW_9 = START.replace(hour=9) + timedelta(days=1)


async def test_no_server_is_unavailable_for_every_operation() -> None:
    records = PostgresRecords(f"postgresql://postgres@127.0.0.1:{free_port()}/none", timeout=0.5)
    calls = [
        records.find_patient("Jane Doe", date(1985, 4, 12)),
        records.patients_named("Jane Doe"),
        records.is_on_file("+14155550123"),
        records.open_slots(),
        records.book("PAAAAA", "SAAAAA"),
        records.reschedule("AAAAAA", "SAAAAA"),
    ]
    for call in calls:
        with pytest.raises(Unavailable) as err:
            await call
        assert isinstance(err.value, ClinicError) and "staff" in str(err.value)
    await records.aclose()


@pytest.mark.parametrize("operation", ["book", "reschedule", "cancel"])
async def test_connection_cut_mid_write_is_unavailable_and_writes_nothing(
    pg: PostgresSchema, operation: str
) -> None:
    application = f"clinic-outage-{uuid.uuid4().hex[:8]}"
    clock = FakeClock()
    url = pg.database.url(pg.schema, application_name=application)
    records = PostgresRecords(url, clock=clock, timeout=10)
    jane = await records.add_patient("Jane Doe", date(1985, 4, 12), "+14155550123")
    first = await records.add_slot("Dr. Patel", TOMORROW_9)
    second = await records.add_slot("Dr. Patel", TOMORROW_9 + timedelta(hours=1))
    appointment = await records.book(jane, first)
    writes: dict[str, Callable[[], Coroutine[Any, Any, object]]] = {
        "book": lambda: records.book(jane, second),
        "reschedule": lambda: records.reschedule(appointment, second),
        "cancel": lambda: records.cancel(appointment),
    }
    write = writes[operation]
    before = snapshot(pg)

    import psycopg

    # Another client locks the history table every write also writes to: the write's one
    # statement reaches the server and waits there, until the server drops our connection.
    with psycopg.connect(pg.url) as holder:
        holder.execute("LOCK TABLE appointment_events IN EXCLUSIVE MODE")
        task = asyncio.create_task(write())
        pid = await pg.waiting_on_a_lock(application)
        pg.execute("SELECT pg_terminate_backend(?)", (pid,))  # the server drops our connection
        with pytest.raises(Unavailable):
            await task
        holder.rollback()

    assert snapshot(pg) == before  # nothing half-written
    await write()  # the pool replaced the dead connection: the next call just works
    assert snapshot(pg) != before
    await records.aclose()


async def test_idle_connections_dropped_by_a_restart_cost_no_call(pg: PostgresSchema) -> None:
    application = f"clinic-restart-{uuid.uuid4().hex[:8]}"
    records = PostgresRecords(
        pg.database.url(pg.schema, application_name=application), idle_check_seconds=0
    )  # as if the connections had sat idle for a while
    await records.load_demo()
    pg.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?",
        (application,),
    )
    assert await records.patients_named("Jane Doe")  # checked out, found dead, replaced
    await records.aclose()
