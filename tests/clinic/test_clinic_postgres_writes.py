"""PostgreSQL writes: one statement each, one round trip each, and still one booking a slot.

Round trips are counted on the wire, through a proxy in front of the real server
(`tests/support/round_trips`): each write is one, refused or not, and a refused one changes
nothing (the records suite checks that on both backends). A single statement reads "is the
slot taken" in the snapshot it started with, so the booking that wins while we wait for the
slot's lock must still leave us with `SlotTaken` and nothing written.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from clinic import ClinicError, InPast, NotFound, PostgresRecords, SlotTaken
from tests.support.postgres import PostgresDatabase
from tests.support.records import START, FakeClock, PostgresSchema, snapshot
from tests.support.round_trips import RoundTripProxy

pytestmark = pytest.mark.postgres

TOMORROW_9 = START.replace(hour=9) + timedelta(days=1)
# psycopg prepares a statement the 5th time it runs it (one more trip, once per connection):
# warm every statement past that, as a call process that has been up a while has.
WARM_RUNS = 6


@pytest.fixture
async def proxy(postgres_database: PostgresDatabase) -> AsyncIterator[RoundTripProxy]:
    server = urlsplit(postgres_database.url())
    async with RoundTripProxy(server.port or 5432, host=server.hostname or "127.0.0.1") as p:
        yield p


@pytest.fixture
async def records(pg: PostgresSchema, proxy: RoundTripProxy) -> AsyncIterator[PostgresRecords]:
    """Records through the proxy: one connection, never idle long enough to be pinged."""
    records = PostgresRecords(
        proxy.url(pg.url), clock=FakeClock(), pool_size=1, idle_check_seconds=3600
    )
    yield records
    await records.aclose()


async def test_book_cancel_and_reschedule_are_one_round_trip_each(
    records: PostgresRecords, proxy: RoundTripProxy
) -> None:
    jane = await records.add_patient("Jane Doe", date(1985, 4, 12), "+14155550123")
    first = await records.add_slot("Dr. Patel", TOMORROW_9)
    second = await records.add_slot("Dr. Patel", TOMORROW_9 + timedelta(hours=1))
    for _ in range(WARM_RUNS):
        appointment = await records.book(jane, first)
        await records.reschedule(appointment, second)
        await records.cancel(appointment)

    trips: dict[str, int] = {}
    mark = proxy.trips
    appointment = await records.book(jane, first)
    trips["book"], mark = proxy.trips - mark, proxy.trips
    await records.reschedule(appointment, second)
    trips["reschedule"], mark = proxy.trips - mark, proxy.trips
    await records.cancel(appointment)
    trips["cancel"] = proxy.trips - mark
    assert trips == {"book": 1, "reschedule": 1, "cancel": 1}


async def test_a_refused_write_is_one_round_trip_and_changes_nothing(
    pg: PostgresSchema, records: PostgresRecords, proxy: RoundTripProxy
) -> None:
    jane = await records.add_patient("Jane Doe", date(1985, 4, 12), "+14155550123")
    john = await records.add_patient("John Smith", date(1972, 9, 30), "+14155550188")
    slot = await records.add_slot("Dr. Patel", TOMORROW_9)
    past = await records.add_slot("Dr. Patel", START - timedelta(days=1))
    janes = await records.book(jane, slot)
    refusals: list[tuple[Callable[[], Awaitable[object]], type[ClinicError]]] = [
        (lambda: records.book(john, slot), SlotTaken),
        (lambda: records.book(john, past), InPast),
        (lambda: records.book("PZZZZZ", slot), NotFound),
        (lambda: records.reschedule(janes, past), InPast),
        (lambda: records.cancel("AZZZZZ"), NotFound),
    ]
    for _ in range(WARM_RUNS):
        for write, error in refusals:
            with pytest.raises(error):
                await write()
    before = snapshot(pg)
    for write, error in refusals:
        trips = proxy.trips
        with pytest.raises(error):
            await write()
        assert proxy.trips - trips == 1, error
    assert snapshot(pg) == before


@pytest.mark.parametrize("operation", ["book", "reschedule"])
async def test_a_booking_that_wins_while_we_wait_for_the_slot_leaves_one_booking(
    pg: PostgresSchema, operation: str
) -> None:
    """Another call holds the slot's lock, our write starts (its snapshot says the slot is
    free) and waits; the other call books the slot and commits. Ours is `SlotTaken`, and
    nothing of ours was written."""
    application = f"clinic-race-{uuid.uuid4().hex[:8]}"
    records = PostgresRecords(
        pg.database.url(pg.schema, application_name=application), clock=FakeClock()
    )
    jane = await records.add_patient("Jane Doe", date(1985, 4, 12), "+14155550123")
    john = await records.add_patient("John Smith", date(1972, 9, 30), "+14155550188")
    contested = await records.add_slot("Dr. Patel", TOMORROW_9)
    own = await records.add_slot("Dr. Nguyen", TOMORROW_9)
    janes = await records.book(jane, own)
    writes: dict[str, Callable[[], Coroutine[Any, Any, object]]] = {
        "book": lambda: records.book(jane, contested),
        "reschedule": lambda: records.reschedule(janes, contested),
    }

    import psycopg

    with psycopg.connect(pg.url) as other:  # another call process, mid-booking
        other.execute("SELECT 1 FROM slots WHERE id = %s FOR UPDATE", (contested,))
        write = asyncio.create_task(writes[operation]())
        await pg.waiting_on_a_lock(application)
        other.execute(
            "INSERT INTO appointments (id, patient_id, slot_id, status, created_at, updated_at)"
            " VALUES ('AWIN22', %s, %s, 'booked', %s, %s)",
            (john, contested, START, START),
        )
        other.commit()
        with pytest.raises(SlotTaken):
            await write

    booked = pg.rows("SELECT id, slot_id FROM appointments WHERE status = 'booked' ORDER BY id")
    assert sorted(booked) == sorted([("AWIN22", contested), (janes, own)])
    events = pg.rows("SELECT action, slot_id FROM appointment_events")
    assert events == [("booked", own)]  # Jane's first booking, nothing after it
    await records.aclose()
