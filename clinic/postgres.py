"""The clinic records on a PostgreSQL server: `PostgresBackend`'s transactions, and
`PostgresRecords`, for more than one machine.

Several worker machines book from one set of records, so the guarantees must hold between
processes that share nothing but the server. They rest on the database, not on luck:

* a booking, a cancellation and a reschedule are each one statement (`clinic.postgres_sql`),
  so one round trip and one transaction: it locks the rows it decides on (appointment first,
  then slot), writes only when the booking rules allow, and returns what it read;
* the partial unique index `one_booking_per_slot` allows one booked appointment per slot even
  if the code above it were wrong; a violation writes nothing and is `SlotTaken`.

Connections, their time limits and the schema migration on first use are the pool's
(`clinic.postgres_pool`); every wait is bounded by `timeout`, after which the caller hears
`Unavailable`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import Any, Final, TypeVar

import psycopg

from verification.phone import E164

from . import postgres_sql as q
from .backend import DemoPlan, NewPatient
from .clock import Clock
from .errors import SlotTaken, Unavailable
from .ids import new_id
from .models import Appointment, AppointmentStatus, Patient, Slot
from .names import NameKeys
from .postgres_pool import DEFAULT_IDLE_CHECK_SECONDS, Conn, RecordsPool, yoyo_uri
from .queries import APPOINTMENT_SELECT, PATIENT_SELECT, SLOT_WITH_BOOKING
from .records import ClinicRecords
from .rules import BookingSeen, MoveSeen, SlotWindow
from .schema import name_key_rows
from .settings import DEFAULT_POOL_SIZE, DEFAULT_TIMEOUT_SECONDS

T = TypeVar("T")
Row = tuple[Any, ...]

_DEMO_LOCK: Final = 0x636C696E6963  # pg_advisory_xact_lock key: one demo load at a time
_ONE_BOOKING_PER_SLOT: Final = "one_booking_per_slot"
_MOVE_TRIES: Final = 3


class PostgresBackend:
    """The records' transactions on PostgreSQL (a `clinic.backend.RecordsBackend`).

    One instance per process (a forked child builds its own pool and leaves the parent's be).
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        idle_check_seconds: float = DEFAULT_IDLE_CHECK_SECONDS,
    ) -> None:
        self.pool = RecordsPool(
            url, size=pool_size, timeout=timeout, idle_check_seconds=idle_check_seconds
        )
        self.where = self.pool.where

    async def open(self) -> None:
        await self.pool.ready()

    async def aclose(self) -> None:
        await self.pool.aclose()

    # ------------------------------------------------------------------ writes

    async def add_patient(self, patient: NewPatient, *, now: datetime) -> str:
        return await self._use(lambda conn: _add_patient(conn, patient, now))

    async def add_slot(self, provider: str, starts_at: datetime) -> str:
        return await self._write(lambda conn: _add_slot(conn, provider, starts_at))

    async def book(
        self, patient_id: str, slot_id: str, *, now: datetime
    ) -> tuple[BookingSeen, str | None]:
        return await self._use(lambda conn: _book(conn, patient_id, slot_id, now))

    async def cancel(
        self, appointment_id: str, *, now: datetime
    ) -> tuple[Appointment | None, bool]:
        params = {"appointment": appointment_id, "now": now}
        row = await self._one(q.CANCEL, params)
        return (None, False) if row is None else (_appointment(row), bool(row[6]))

    async def reschedule(
        self, appointment_id: str, new_slot_id: str, *, now: datetime
    ) -> tuple[MoveSeen, bool]:
        params = {"appointment": appointment_id, "slot": new_slot_id, "now": now}
        for _ in range(_MOVE_TRIES):
            try:
                row = await self._one(q.RESCHEDULE, params)
            except Unavailable as exc:
                if not _lost_the_slot(exc):
                    raise
                continue  # a booking committed while we waited: the next run sees it taken
            assert row is not None  # the statement's last SELECT always has one row
            current = None if row[0] is None else _appointment(row)
            target = None if row[6] is None else Slot(row[6], row[7], row[8])
            return MoveSeen(current, target, bool(row[9])), bool(row[10])
        raise SlotTaken()

    async def load_demo(self, plan: DemoPlan, *, now: datetime) -> bool:
        return await self._write(lambda conn: _load_demo(conn, plan, now))

    # ------------------------------------------------------------------ reads

    async def patient(self, patient_id: str) -> Patient | None:
        row = await self._one(PATIENT_SELECT + " WHERE id = %s", (patient_id,))
        return None if row is None else Patient(*row)

    async def slot(self, slot_id: str) -> tuple[Slot, bool] | None:
        row = await self._one(SLOT_WITH_BOOKING + " WHERE s.id = %s", (slot_id,))
        return None if row is None else (Slot(row[0], row[1], row[2]), bool(row[3]))

    async def appointment(self, appointment_id: str) -> Appointment | None:
        row = await self._one(APPOINTMENT_SELECT + " WHERE a.id = %s", (appointment_id,))
        return None if row is None else _appointment(row)

    async def phone_on_file(self, phone: E164) -> bool:
        query = "SELECT 1 FROM patients WHERE phone = %s LIMIT 1"
        return await self._one(query, (phone,)) is not None

    async def patients_with_phone(self, phone: E164) -> list[Patient]:
        query = PATIENT_SELECT + " WHERE phone = %s ORDER BY full_name, id"
        return [Patient(*row) for row in await self._all(query, (phone,))]

    async def patients_by_name_keys(
        self, keys: NameKeys, *, date_of_birth: date | None, after_id: str, limit: int
    ) -> list[Patient]:
        params = {
            "dob": date_of_birth,
            "after": after_id,
            "last": sorted(keys.last),
            "first": sorted(keys.first),
            "limit": limit,
        }
        return [Patient(*row) for row in await self._all(q.BY_NAME_KEYS, params)]

    async def appointments_for(
        self, patient_id: str, *, after: datetime | None, statuses: Sequence[AppointmentStatus]
    ) -> list[Appointment]:
        params = {"patient": patient_id, "after": after, "statuses": list(statuses)}
        return [_appointment(row) for row in await self._all(q.APPOINTMENTS_FOR_PATIENT, params)]

    async def open_slots(
        self, window: SlotWindow, provider_ids: Sequence[int] | None
    ) -> list[Slot]:
        params = {
            "now": window.now,
            "lower": window.lower,
            "upper": window.upper,
            "providers": None if provider_ids is None else list(provider_ids),
            "limit": window.limit,
        }
        return [Slot(*row) for row in await self._all(q.OPEN_SLOTS, params)]

    async def providers(self) -> list[tuple[int, str]]:
        rows = await self._all("SELECT id, name FROM providers", ())
        return [(int(i), str(n)) for i, n in rows]

    # ------------------------------------------------------------------ plumbing

    def connection(self) -> AbstractAsyncContextManager[Conn]:
        """A pooled connection (autocommit); any failure to reach or use the server is
        `Unavailable`. Every statement the backend sends goes through here."""
        return self.pool.connection()

    async def _use(self, body: Callable[[Conn], Awaitable[T]]) -> T:
        async with self.connection() as conn:
            return await body(conn)

    async def _write(self, body: Callable[[Conn], Awaitable[T]]) -> T:
        """`body` in one transaction of several statements (the rare writes that need it)."""
        async with self.connection() as conn, conn.transaction():
            return await body(conn)

    async def _one(self, query: str, params: Any) -> Row | None:
        return await self._use(lambda conn: _fetchone(conn, query, params))

    async def _all(self, query: str, params: Any) -> list[Row]:
        return await self._use(lambda conn: _fetchall(conn, query, params))


class PostgresRecords(ClinicRecords):
    """The clinic's records on PostgreSQL: `ClinicRecords` on a `PostgresBackend`.

    Create it anywhere; the pool opens and the schema is migrated on first use (or `open()`).
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        clock: Clock | None = None,
        idle_check_seconds: float = DEFAULT_IDLE_CHECK_SECONDS,
        default_region: str = "US",
    ) -> None:
        self.backend = PostgresBackend(
            url, pool_size=pool_size, timeout=timeout, idle_check_seconds=idle_check_seconds
        )
        super().__init__(self.backend, clock=clock, default_region=default_region)
        self.url = url
        self.pool_size = pool_size
        self.timeout = timeout


# ---------------------------------------------------------------------- statements


async def _book(
    conn: Conn, patient_id: str, slot_id: str, now: datetime
) -> tuple[BookingSeen, str | None]:
    params = {"patient": patient_id, "slot": slot_id, "now": now}
    while True:
        try:
            row = await _fetchone(conn, q.BOOK, {**params, "id": new_id("appointment")})
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name == _ONE_BOOKING_PER_SLOT:
                raise
            continue  # the new id collided with an existing appointment's: draw again
        assert row is not None  # the statement's last SELECT always has one row
        slot = None if row[1] is None else Slot(row[1], row[2], row[3])
        return BookingSeen(bool(row[0]), slot, bool(row[4])), row[5]


async def _add_patient(conn: Conn, patient: NewPatient, now: datetime) -> str:
    keys = name_key_rows("", patient.full_name)
    params = {
        "name": patient.full_name,
        "dob": patient.date_of_birth,
        "phone": str(patient.phone),
        "now": now,
        "parts": [part for _, part, _ in keys],
        "keys": [key for _, _, key in keys],
    }
    while True:
        candidate = new_id("patient")
        if await _fetchone(conn, q.ADD_PATIENT, {**params, "id": candidate}) is not None:
            return candidate


async def _add_slot(conn: Conn, provider: str, when: datetime) -> str:
    await conn.execute(q.ADD_PROVIDER, (provider,))
    provider_row = await _fetchone(conn, q.PROVIDER_ID, (provider,))
    assert provider_row is not None  # inserted or already there, in this transaction
    provider_id = int(provider_row[0])
    while True:
        await conn.execute(q.ADD_SLOT, (new_id("slot"), provider_id, when))
        existing = await _fetchone(
            conn,
            "SELECT id FROM slots WHERE provider_id = %s AND starts_at = %s",
            (provider_id, when),
        )
        if existing is not None:  # ours, or the one that was already there
            return str(existing[0])


async def _load_demo(conn: Conn, plan: DemoPlan, now: datetime) -> bool:
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_DEMO_LOCK,))
    loaded = await _fetchone(conn, "SELECT 1 FROM meta WHERE key = 'demo_loaded'", ())
    has_patients = await _fetchone(conn, "SELECT 1 FROM patients LIMIT 1", ())
    if loaded is not None or has_patients is not None:
        return False
    patient_ids = [await _add_patient(conn, p, now) for p in plan.patients]
    slot_ids = {slot: await _add_slot(conn, *slot) for slot in plan.slots}
    for patient, slot in plan.bookings:
        _, booked = await _book(conn, patient_ids[patient], slot_ids[slot], now)
        if booked is None:
            raise RuntimeError("a demo booking was refused")  # rolls the load back
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES ('demo_loaded', %s)", (plan.day.isoformat(),)
    )
    return True


def _lost_the_slot(exc: Unavailable) -> bool:
    cause = exc.__cause__
    return (
        isinstance(cause, psycopg.errors.UniqueViolation)
        and cause.diag.constraint_name == _ONE_BOOKING_PER_SLOT
    )


async def _fetchone(conn: Conn, query: str, params: Any) -> Row | None:
    cursor = await conn.execute(query, params)
    return await cursor.fetchone()


async def _fetchall(conn: Conn, query: str, params: Any) -> list[Row]:
    cursor = await conn.execute(query, params)
    return await cursor.fetchall()


def _appointment(row: Row) -> Appointment:
    status: AppointmentStatus = "cancelled" if row[5] == "cancelled" else "booked"
    return Appointment(row[0], row[1], row[2], row[3], row[4], status)


__all__ = ["PostgresBackend", "PostgresRecords", "yoyo_uri"]
