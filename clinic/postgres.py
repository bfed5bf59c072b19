"""`PostgresRecords`: the clinic records on a PostgreSQL server, for more than one machine.

Several worker machines book from one set of records, so the guarantees must hold between
processes that share nothing but the server. They rest on the database, not on luck:

* every write is one transaction (`async with conn.transaction()`): all of it commits or none;
* a write first locks the rows it decides on (`SELECT ... FOR UPDATE`): the appointment it
  cancels or moves, the slot it books or moves to. Locks are always taken appointment first,
  then slot, so two writers never wait on each other in a cycle;
* the partial unique index `one_booking_per_slot` allows one booked appointment per slot even
  if the code above it were wrong; a violation is `SlotTaken`, and the transaction rolls back;
* the rules themselves (`clinic.rules`) are the ones SQLite enforces, word for word.

Connections come from a `psycopg_pool.AsyncConnectionPool` per process; one that sat idle is
pinged before use, so a server restart or failover between calls costs no call. Every wait -
for a connection, a lock or a statement - is bounded by `timeout`, after which the caller
hears `Unavailable`.
The schema is migrated on first use (`clinic.schema`, yoyo, in a worker thread).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from types import TracebackType
from typing import Any, Final, Self, TypeVar

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from verification.phone import mask_phone, normalize_phone

from . import demo as demo_data
from . import rules
from .clock import Clock, clinic_clock
from .dates import parse_date
from .errors import AlreadyCancelled, NotFound, SlotTaken, Unavailable
from .ids import IdKind, new_id, normalize_id
from .models import Appointment, AppointmentStatus, Patient, Slot
from .names import MAX_NAMED_PATIENTS, name_keys, names_match
from .queries import APPOINTMENT_SELECT, PATIENT_SELECT, SLOT_SELECT
from .schema import APPLIED_MIGRATIONS, is_current, migrate, name_key_rows

logger = logging.getLogger(__name__)

T = TypeVar("T")
Conn = AsyncConnection[tuple[Any, ...]]

DEFAULT_POOL_SIZE: Final = 4
DEFAULT_TIMEOUT_SECONDS: Final = 5.0
# A pooled connection idle this long is pinged before use (one round trip); busier ones not.
DEFAULT_IDLE_CHECK_SECONDS: Final = 2.0
MAX_NAME_CANDIDATES: Final = 200
# Matching more candidates than this goes to a worker thread, off the event loop.
_INLINE_MATCHES: Final = 16
_DEMO_LOCK: Final = 0x636C696E6963  # pg_advisory_xact_lock key: one demo load at a time

_APPOINTMENTS_FOR_PATIENT: Final = """
SELECT a.id, a.patient_id, a.slot_id, p.name, s.starts_at, a.status
FROM appointments AS a
JOIN slots AS s ON s.id = a.slot_id
JOIN providers AS p ON p.id = s.provider_id
WHERE a.patient_id = %s AND s.starts_at > %s AND a.status = ANY(%s)
ORDER BY s.starts_at, a.id
"""
_OPEN_SLOTS: Final = """
SELECT s.id, p.name, s.starts_at
FROM slots AS s
JOIN providers AS p ON p.id = s.provider_id
WHERE s.starts_at > %(now)s AND s.starts_at >= %(lower)s AND s.starts_at < %(upper)s
  AND (%(providers)s::bigint[] IS NULL OR s.provider_id = ANY(%(providers)s))
  AND NOT EXISTS (SELECT 1 FROM appointments AS a WHERE a.slot_id = s.id AND a.status = 'booked')
ORDER BY s.starts_at, p.name
LIMIT %(limit)s
"""
_BY_NAME_KEYS: Final = """
SELECT id, full_name, date_of_birth, phone FROM patients
WHERE (%(dob)s::date IS NULL OR date_of_birth = %(dob)s)
  AND id IN (SELECT patient_id FROM patient_name_keys WHERE part = 'L' AND key = ANY(%(last)s))
  AND id IN (SELECT patient_id FROM patient_name_keys WHERE part = 'F' AND key = ANY(%(first)s))
ORDER BY id
LIMIT %(limit)s
"""
_SLOT_IS_BOOKED: Final = (
    "SELECT 1 FROM appointments WHERE slot_id = %s AND status = 'booked' LIMIT 1"
)


def yoyo_uri(url: str) -> str:
    """The URL as yoyo names psycopg 3's backend."""
    scheme, rest = url.split("://", 1)
    return "postgresql+psycopg://" + rest if scheme in ("postgresql", "postgres") else url


def describe(url: str) -> str:
    """host:port/dbname, for logs and messages (never the user's password)."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(unparsable URL)"
    host = parts.get("host", "localhost")
    port = parts.get("port", "5432")
    return f"postgresql://{host}:{port}/{parts.get('dbname', '')}"


class PostgresRecords:
    """The clinic's records on PostgreSQL; a `ClinicRecords` and a `PhoneDirectory`.

    Create it anywhere; the pool opens and the schema is migrated on first use (or `open()`).
    One instance per process (a forked child builds its own pool and leaves the parent's be).
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        clock: Clock | None = None,
        idle_check_seconds: float = DEFAULT_IDLE_CHECK_SECONDS,
    ) -> None:
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        if timeout <= 0:
            raise ValueError("timeout must be > 0 seconds")
        self.url = url
        self.where = describe(url)
        self.pool_size = pool_size
        self.timeout = timeout
        self._clock = clock if clock is not None else clinic_clock()
        self.idle_check_seconds = idle_check_seconds
        self._idle_since: weakref.WeakKeyDictionary[Conn, float] = weakref.WeakKeyDictionary()
        self._pool: AsyncConnectionPool[Conn] | None = None
        self._pid = os.getpid()
        self._opening = asyncio.Lock()
        self._closed = False

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        """Open the pool and migrate the schema now rather than on first use."""
        await self._ready()

    def now(self) -> datetime:
        return self._clock().replace(microsecond=0)

    async def aclose(self) -> None:
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None and self._pid == os.getpid():
            await pool.close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def load_demo(self) -> bool:
        """Load the demo data unless there are patients; True if it loaded (once, whoever races)."""
        loaded = await self._write(self._load_demo_tx)
        if loaded:
            logger.info("demo data loaded", extra={"db": self.where})
        return loaded

    # ------------------------------------------------------------------ writes

    async def add_patient(self, full_name: str, date_of_birth: date, phone: str) -> str:
        name = rules.clean_patient_name(full_name)
        dob = rules.as_date(date_of_birth)
        phone_e164 = normalize_phone(phone)
        patient_id = await self._write(lambda c: self._add_patient_tx(c, name, dob, phone_e164))
        logger.info(
            "patient added", extra={"patient_id": patient_id, "phone": mask_phone(phone_e164)}
        )
        return patient_id

    async def add_slot(self, provider: str, starts_at: datetime) -> str:
        name = rules.clean_provider(provider)
        when = rules.check_slot_time(starts_at)
        return await self._write(lambda c: self._add_slot_tx(c, name, when))

    async def book(self, patient_id: str, slot_id: str) -> str:
        pid, sid = normalize_id(patient_id), normalize_id(slot_id)
        appointment_id = await self._write(lambda c: self._book_tx(c, pid, sid))
        logger.info(
            "appointment booked",
            extra={"appointment_id": appointment_id, "patient_id": pid, "slot_id": sid},
        )
        return appointment_id

    async def cancel(self, appointment_id: str) -> Appointment:
        aid = normalize_id(appointment_id)
        appointment = await self._write(lambda c: self._cancel_tx(c, aid))
        logger.info(
            "appointment cancelled", extra={"appointment_id": aid, "slot_id": appointment.slot_id}
        )
        return appointment

    async def reschedule(self, appointment_id: str, new_slot_id: str) -> Appointment:
        aid, sid = normalize_id(appointment_id), normalize_id(new_slot_id)
        appointment, previous = await self._write(lambda c: self._reschedule_tx(c, aid, sid))
        logger.info(
            "appointment rescheduled",
            extra={"appointment_id": aid, "slot_id": sid, "previous_slot_id": previous},
        )
        return appointment

    # ------------------------------------------------------------------ reads

    async def get_patient(self, patient_id: str) -> Patient:
        row = await self._one(PATIENT_SELECT + " WHERE id = %s", (normalize_id(patient_id),))
        if row is None:
            raise NotFound("patient")
        return _patient(row)

    async def get_slot(self, slot_id: str) -> Slot:
        return await self._read(lambda c: _get_slot(c, normalize_id(slot_id)))

    async def get_appointment(self, appointment_id: str) -> Appointment:
        return await self._read(lambda c: _get_appointment(c, normalize_id(appointment_id)))

    async def is_slot_open(self, slot_id: str) -> bool:
        sid = normalize_id(slot_id)

        async def read(conn: Conn) -> bool:
            slot = await _get_slot(conn, sid)
            if slot.starts_at <= self.now():
                return False
            return await _fetchone(conn, _SLOT_IS_BOOKED, (sid,)) is None

        return await self._read(read)

    async def is_on_file(self, phone_e164: str) -> bool:
        try:
            phone = normalize_phone(phone_e164)
        except ValueError:
            return False
        row = await self._one("SELECT 1 FROM patients WHERE phone = %s LIMIT 1", (phone,))
        return row is not None

    async def patients_with_phone(self, phone_e164: str) -> list[Patient]:
        try:
            phone = normalize_phone(phone_e164)
        except ValueError:
            return []
        rows = await self._all(
            PATIENT_SELECT + " WHERE phone = %s ORDER BY full_name, id", (phone,)
        )
        return [_patient(row) for row in rows]

    async def find_patient(self, full_name: str, date_of_birth: str | date) -> Patient | None:
        """As `ClinicDB.find_patient`: the date exactly, the name under `clinic.names`."""
        dob = parse_date(date_of_birth) if isinstance(date_of_birth, str) else date_of_birth
        candidates = await self._named(full_name, rules.as_date(dob))
        if len(candidates) >= MAX_NAME_CANDIDATES:
            patient, matched = None, len(candidates)
        else:
            patient, matched = await _off_loop_if_many(
                candidates, lambda: rules.pick_patient(full_name, candidates)
            )
        if matched > 1:
            logger.warning(
                "ambiguous patient match; refusing to guess", extra={"candidates": matched}
            )
        return patient

    async def patients_named(self, full_name: str) -> list[Patient]:
        """As `ClinicDB.patients_named`: bounded, through the name index."""
        candidates = await self._named(full_name)
        matched = await _off_loop_if_many(
            candidates, lambda: [p for p in candidates if names_match(full_name, p.full_name)]
        )
        return matched[:MAX_NAMED_PATIENTS]

    async def appointments_for(
        self, patient_id: str, *, include_past: bool = False, include_cancelled: bool = False
    ) -> list[Appointment]:
        after = datetime.min if include_past else self.now()
        statuses = ["booked", "cancelled"] if include_cancelled else ["booked"]
        rows = await self._all(
            _APPOINTMENTS_FOR_PATIENT, (normalize_id(patient_id), after, statuses)
        )
        return [_appointment(row) for row in rows]

    async def open_slots(
        self,
        *,
        start: date | None = None,
        end: date | None = None,
        provider: str | None = None,
        limit: int = 10,
    ) -> list[Slot]:
        window = rules.slot_window(now=self.now(), start=start, end=end, limit=limit)
        query_words = rules.provider_words(provider) if provider else []

        async def read(conn: Conn) -> list[Slot]:
            ids: list[int] | None = None
            if query_words:
                names = await _fetchall(conn, "SELECT id, name FROM providers", ())
                ids = [pid for pid, name in names if rules.provider_matches(query_words, name)]
                if not ids:
                    raise NotFound("provider")
            params = {
                "now": window.now,
                "lower": window.lower,
                "upper": window.upper,
                "providers": ids,
                "limit": window.limit,
            }
            return [_slot(row) for row in await _fetchall(conn, _OPEN_SLOTS, params)]

        return await self._read(read)

    async def providers(self) -> list[str]:
        rows = await self._all("SELECT name FROM providers ORDER BY name", ())
        return [str(row[0]) for row in rows]

    # ------------------------------------------------------------------ transactions

    async def _add_patient_tx(self, conn: Conn, name: str, dob: date, phone_e164: str) -> str:
        patient_id = await self._insert_with_fresh_id(
            conn,
            "patient",
            "INSERT INTO patients (id, full_name, date_of_birth, phone, created_at)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
            (name, dob, phone_e164, self.now()),
        )
        async with conn.cursor() as cursor:
            await cursor.executemany(
                "INSERT INTO patient_name_keys (patient_id, part, key) VALUES (%s, %s, %s)",
                name_key_rows(patient_id, name),
            )
        return patient_id

    async def _add_slot_tx(self, conn: Conn, provider: str, when: datetime) -> str:
        provider_id = await _provider_id(conn, provider)
        while True:
            candidate = new_id("slot")
            await conn.execute(
                "INSERT INTO slots (id, provider_id, starts_at) VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (candidate, provider_id, when),
            )
            existing = await _fetchone(
                conn,
                "SELECT id FROM slots WHERE provider_id = %s AND starts_at = %s",
                (provider_id, when),
            )
            if existing is not None:  # ours, or the one that was already there
                return str(existing[0])

    async def _add_slots_tx(
        self, conn: Conn, wanted: list[tuple[str, datetime]]
    ) -> dict[tuple[str, datetime], str]:
        """Many slots in a few round trips (the demo schedule); same result as `_add_slot_tx`."""
        provider_ids = {p: await _provider_id(conn, p) for p in sorted({p for p, _ in wanted})}
        async with conn.cursor() as cursor:
            await cursor.executemany(
                "INSERT INTO slots (id, provider_id, starts_at) VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                [(new_id("slot"), provider_ids[p], when) for p, when in wanted],
            )
        stored = {
            (provider_id, when): slot_id
            for slot_id, provider_id, when in await _fetchall(
                conn, "SELECT id, provider_id, starts_at FROM slots", ()
            )
        }
        found: dict[tuple[str, datetime], str] = {}
        for provider, when in wanted:
            slot_id = stored.get((provider_ids[provider], when))
            # an id that collided with another slot's: add that one on its own
            found[provider, when] = slot_id or await self._add_slot_tx(conn, provider, when)
        return found

    async def _book_tx(self, conn: Conn, patient_id: str, slot_id: str) -> str:
        if await _fetchone(conn, "SELECT 1 FROM patients WHERE id = %s", (patient_id,)) is None:
            raise NotFound("patient")
        slot = await _get_slot(conn, slot_id, lock=True)
        rules.check_bookable(slot, now=self.now())
        if await _fetchone(conn, _SLOT_IS_BOOKED, (slot_id,)) is not None:
            raise SlotTaken()
        stamp = self.now()
        try:
            appointment_id = await self._insert_with_fresh_id(
                conn,
                "appointment",
                "INSERT INTO appointments (id, patient_id, slot_id, status, created_at,"
                " updated_at) VALUES (%s, %s, %s, 'booked', %s, %s) ON CONFLICT (id) DO NOTHING",
                (patient_id, slot_id, stamp, stamp),
            )
        except psycopg.errors.UniqueViolation as exc:  # the partial index: belt and braces
            raise SlotTaken() from exc
        await self._event(conn, appointment_id, "booked", slot_id, None)
        return appointment_id

    async def _cancel_tx(self, conn: Conn, appointment_id: str) -> Appointment:
        current = await _get_appointment(conn, appointment_id, lock=True)
        rules.check_cancellable(current, now=self.now())
        cursor = await conn.execute(
            "UPDATE appointments SET status = 'cancelled', updated_at = %s"
            " WHERE id = %s AND status = 'booked'",
            (self.now(), appointment_id),
        )
        if cursor.rowcount != 1:  # cannot happen under the row lock; refuse, don't guess
            raise AlreadyCancelled()
        await self._event(conn, appointment_id, "cancelled", current.slot_id, None)
        return await _get_appointment(conn, appointment_id)

    async def _reschedule_tx(
        self, conn: Conn, appointment_id: str, new_slot_id: str
    ) -> tuple[Appointment, str]:
        current = await _get_appointment(conn, appointment_id, lock=True)
        now = self.now()
        rules.check_movable(current, now=now)
        new_slot = await _get_slot(conn, new_slot_id, lock=True)
        rules.check_new_slot(current, new_slot, now=now)
        if await _fetchone(conn, _SLOT_IS_BOOKED, (new_slot.id,)) is not None:
            raise SlotTaken()
        try:
            cursor = await conn.execute(
                "UPDATE appointments SET slot_id = %s, updated_at = %s"
                " WHERE id = %s AND status = 'booked' AND slot_id = %s",
                (new_slot.id, now, appointment_id, current.slot_id),
            )
        except psycopg.errors.UniqueViolation as exc:  # the partial index: belt and braces
            raise SlotTaken() from exc
        if cursor.rowcount != 1:  # cannot happen under the row lock; refuse, don't guess
            raise SlotTaken()
        await self._event(conn, appointment_id, "rescheduled", new_slot.id, current.slot_id)
        return await _get_appointment(conn, appointment_id), current.slot_id

    async def _load_demo_tx(self, conn: Conn) -> bool:
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_DEMO_LOCK,))
        loaded = await _fetchone(conn, "SELECT 1 FROM meta WHERE key = 'demo_loaded'", ())
        has_patients = await _fetchone(conn, "SELECT 1 FROM patients LIMIT 1", ())
        if loaded is not None or has_patients is not None:
            return False
        today = self.now().date()
        patient_ids = {
            p: await self._add_patient_tx(conn, p.full_name, p.date_of_birth, p.phone)
            for p in demo_data.DEMO_PATIENTS
        }
        slot_ids = await self._add_slots_tx(conn, demo_data.demo_slot_times(today))
        for booking in demo_data.DEMO_BOOKINGS:
            when = demo_data.booking_time(booking, today)
            await self._book_tx(
                conn, patient_ids[booking.patient], slot_ids[booking.provider, when]
            )
        await conn.execute(
            "INSERT INTO meta (key, value) VALUES ('demo_loaded', %s)", (today.isoformat(),)
        )
        return True

    async def _insert_with_fresh_id(
        self, conn: Conn, kind: IdKind, insert: str, values: tuple[Any, ...]
    ) -> str:
        """Insert with a random id, drawing again on the (rare) collision with an existing one."""
        while True:
            candidate = new_id(kind)
            cursor = await conn.execute(insert, (candidate, *values))
            if cursor.rowcount == 1:
                return candidate

    async def _event(
        self,
        conn: Conn,
        appointment_id: str,
        action: str,
        slot_id: str,
        previous_slot_id: str | None,
    ) -> None:
        await conn.execute(
            "INSERT INTO appointment_events (appointment_id, at, action, slot_id,"
            " previous_slot_id) VALUES (%s, %s, %s, %s, %s)",
            (appointment_id, self.now(), action, slot_id, previous_slot_id),
        )

    async def _named(self, full_name: str, dob: date | None = None) -> list[Patient]:
        keys = name_keys(full_name)
        if not keys:
            return []
        params = {
            "dob": dob,
            "last": sorted(keys.last),
            "first": sorted(keys.first),
            "limit": MAX_NAME_CANDIDATES,
        }
        return [_patient(row) for row in await self._all(_BY_NAME_KEYS, params)]

    # ------------------------------------------------------------------ pool plumbing

    async def _write(self, body: Callable[[Conn], Awaitable[T]]) -> T:
        """`body` in one transaction on one pooled connection: the shape of every write."""
        async with self._connection() as conn, conn.transaction():
            return await body(conn)

    async def _read(self, body: Callable[[Conn], Awaitable[T]]) -> T:
        async with self._connection() as conn:
            return await body(conn)

    async def _one(self, query: str, params: Any) -> tuple[Any, ...] | None:
        return await self._read(lambda conn: _fetchone(conn, query, params))

    async def _all(self, query: str, params: Any) -> list[tuple[Any, ...]]:
        return await self._read(lambda conn: _fetchall(conn, query, params))

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Conn]:
        """A pooled connection; any failure to reach or use the server is `Unavailable`."""
        try:
            pool = await self._ready()
            async with pool.connection() as conn:
                yield conn
        except (psycopg.Error, PoolTimeout) as exc:
            logger.error(
                "clinic database error",
                extra={"error": type(exc).__name__, "db": self.where},
                exc_info=exc,
            )
            raise Unavailable() from exc

    async def _ready(self) -> AsyncConnectionPool[Conn]:
        if self._closed:
            raise RuntimeError("PostgresRecords is closed")
        if self._pid != os.getpid():  # a forked child: the parent's sockets are not ours
            self._pool, self._pid, self._opening = None, os.getpid(), asyncio.Lock()
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._pool is None:
                pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self.pool_size,
                    open=False,
                    timeout=self.timeout,
                    kwargs={"autocommit": True, "connect_timeout": max(1, round(self.timeout))},
                    configure=self._configure,
                    check=self._check,
                    reset=self._returned,
                    name=f"clinic-records-{os.getpid()}",
                )
                try:
                    await pool.open(wait=True, timeout=self.timeout)
                    await self._migrate(pool)
                except BaseException:
                    await pool.close()
                    raise
                self._pool = pool
        return self._pool

    async def _returned(self, conn: Conn) -> None:
        """The pool's reset hook: note when the connection came back, for `_check`."""
        self._idle_since[conn] = time.monotonic()

    async def _check(self, conn: Conn) -> None:
        """Before a connection is handed out: ping it if it sat idle (a restart or failover
        may have cut it since), so that costs no call; skip the round trip when it was in
        use a moment ago, as under load it always is."""
        idle_since = self._idle_since.get(conn)
        if idle_since is None or time.monotonic() - idle_since >= self.idle_check_seconds:
            await AsyncConnectionPool.check_connection(conn)

    async def _configure(self, conn: Conn) -> None:
        """Every wait on the server is bounded: a stuck lock is `Unavailable`, not a hang."""
        millis = int(self.timeout * 1000)
        await conn.execute(sql.SQL("SET lock_timeout = {}").format(millis))
        await conn.execute(sql.SQL("SET statement_timeout = {}").format(millis * 2))

    async def _migrate(self, pool: AsyncConnectionPool[Conn]) -> None:
        async with pool.connection() as conn:
            try:
                applied = [row[0] for row in await _fetchall(conn, APPLIED_MIGRATIONS, ())]
            except psycopg.errors.UndefinedTable:
                applied = []
        if not is_current(applied, "postgresql"):
            await asyncio.to_thread(migrate, yoyo_uri(self.url), "postgresql", where=self.where)


async def _off_loop_if_many(candidates: list[Patient], work: Callable[[], T]) -> T:
    """Name matching on the loop when it is a handful, in a worker thread when it is more."""
    if len(candidates) <= _INLINE_MATCHES:
        return work()
    return await asyncio.to_thread(work)


async def _provider_id(conn: Conn, provider: str) -> int:
    """The provider's id, adding the provider if new (names are unique, ignoring case)."""
    await conn.execute(
        "INSERT INTO providers (name) VALUES (%s) ON CONFLICT ((lower(name))) DO NOTHING",
        (provider,),
    )
    row = await _fetchone(
        conn, "SELECT id FROM providers WHERE lower(name) = lower(%s)", (provider,)
    )
    assert row is not None  # inserted or already there, in this transaction
    return int(row[0])


async def _fetchone(conn: Conn, query: str, params: Any) -> tuple[Any, ...] | None:
    cursor = await conn.execute(query, params)
    return await cursor.fetchone()


async def _fetchall(conn: Conn, query: str, params: Any) -> list[tuple[Any, ...]]:
    cursor = await conn.execute(query, params)
    return await cursor.fetchall()


async def _get_appointment(conn: Conn, appointment_id: str, *, lock: bool = False) -> Appointment:
    query = APPOINTMENT_SELECT + " WHERE a.id = %s" + (" FOR UPDATE OF a" if lock else "")
    row = await _fetchone(conn, query, (appointment_id,))
    if row is None:
        raise NotFound("appointment")
    return _appointment(row)


async def _get_slot(conn: Conn, slot_id: str, *, lock: bool = False) -> Slot:
    query = SLOT_SELECT + " WHERE s.id = %s" + (" FOR UPDATE OF s" if lock else "")
    row = await _fetchone(conn, query, (slot_id,))
    if row is None:
        raise NotFound("slot")
    return _slot(row)


def _patient(row: tuple[Any, ...]) -> Patient:
    return Patient(id=row[0], full_name=row[1], date_of_birth=row[2], phone=row[3])


def _slot(row: tuple[Any, ...]) -> Slot:
    return Slot(id=row[0], provider=row[1], starts_at=row[2])


def _appointment(row: tuple[Any, ...]) -> Appointment:
    status: AppointmentStatus = "cancelled" if row[5] == "cancelled" else "booked"
    return Appointment(
        id=row[0], patient_id=row[1], slot_id=row[2], provider=row[3], starts_at=row[4],
        status=status,
    )  # fmt: skip


__all__ = ["DEFAULT_POOL_SIZE", "DEFAULT_TIMEOUT_SECONDS", "PostgresRecords", "describe"]
