"""`SqliteBackend`: the clinic records' transactions on one SQLite file (`clinic.db.ClinicDB`).

Why it is built this way:

* LiveKit runs each call in its own process, so the records live in one SQLite file shared by
  every call on the machine. WAL lets readers proceed while one call writes; every write is a
  `BEGIN IMMEDIATE` transaction (the write lock is taken up front, so two calls never both
  read "slot is free" and then both write), inside which the backend reads what it decides
  on and asks `clinic.rules` whether to write. The schema's partial unique index allows at
  most one booked appointment per slot (`clinic.schema`), whatever the code above it does.
* Nothing blocks the event loop: the backend owns one
  `verification.sqlite_thread.SqliteThread` (one connection on one private worker thread,
  safe across fork), and every transaction is handed to that thread.
* Times are naive clinic-local `datetime`s stored as ISO-8601 text to the second, so they sort
  and compare as strings.

`clinic.db.ClinicDB(path)` is `clinic.records.ClinicRecords` on this backend: the embedded
default. For several machines use PostgreSQL (`clinic.open_records`).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Final, TypeVar

from verification.phone import E164
from verification.sqlite_thread import SqliteThread, immediate

from . import rules
from .backend import DemoPlan, NewPatient
from .errors import Unavailable
from .ids import IdKind, new_id
from .models import Appointment, AppointmentStatus, Patient, Slot
from .names import NameKeys
from .queries import (
    APPOINTMENT_SELECT,
    PATIENT_SELECT,
    SLOT_BOOKED,
    SLOT_SELECT,
    SLOT_WITH_BOOKING,
)
from .rules import BookingSeen, MoveSeen, SlotWindow
from .schema import APPLIED_MIGRATIONS, is_current, migrate, name_key_rows

T = TypeVar("T")

DEFAULT_BUSY_TIMEOUT_SECONDS: Final = 5.0

_ID_EXISTS: Final[dict[IdKind, str]] = {
    "patient": "SELECT 1 FROM patients WHERE id = ?",
    "slot": "SELECT 1 FROM slots WHERE id = ?",
    "appointment": "SELECT 1 FROM appointments WHERE id = ?",
}
_APPOINTMENTS_FOR_PATIENT: Final = (
    APPOINTMENT_SELECT  # noqa: S608 (constants joined, no input: every value is a bound parameter)
    + """
WHERE a.patient_id = ? AND s.starts_at > ? AND a.status IN (SELECT value FROM json_each(?))
ORDER BY s.starts_at, a.id
"""
)
_OPEN_SLOTS: Final = f"""{SLOT_SELECT}
WHERE s.starts_at > ? AND s.starts_at >= ? AND s.starts_at < ?
  AND (? IS NULL OR s.provider_id IN (SELECT value FROM json_each(?)))
  AND NOT {SLOT_BOOKED}
ORDER BY s.starts_at, p.name LIMIT ?
"""  # noqa: S608 (constants joined, no input: every value is a bound parameter)
# Records whose first and last name parts each share a key with the spoken name's: the only
# ones `names_match` can accept (clinic.names.name_keys).
_BY_NAME_KEYS: Final = (
    PATIENT_SELECT  # noqa: S608 (constants joined, no input: every value is a bound parameter)
    + """
WHERE (? IS NULL OR date_of_birth = ?) AND id > ?
  AND id IN (SELECT patient_id FROM patient_name_keys
             WHERE part = 'L' AND key IN (SELECT value FROM json_each(?)))
  AND id IN (SELECT patient_id FROM patient_name_keys
             WHERE part = 'F' AND key IN (SELECT value FROM json_each(?)))
ORDER BY id LIMIT ?
"""
)


class SqliteBackend:
    """The records' transactions on one SQLite file (a `clinic.backend.RecordsBackend`).

    Create it anywhere (the constructor touches no files); the connection opens and the
    schema is brought up to date on first use, on the worker thread.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS
    ) -> None:
        if os.fspath(path) == ":memory:" or os.fspath(path).startswith("file:"):
            raise ValueError("ClinicDB needs a file path (the schema is migrated through it)")
        self._thread = SqliteThread(
            path, setup=self._migrate, busy_timeout=busy_timeout, thread_name="clinic-db"
        )
        self.path = self._thread.path

    @property
    def where(self) -> str:
        return self.path

    async def open(self) -> None:
        await self._run(lambda conn: None)

    async def aclose(self) -> None:
        await self._thread.aclose()

    def close(self) -> None:
        self._thread.close()

    # ------------------------------------------------------------------ writes

    async def add_patient(self, patient: NewPatient, *, now: datetime) -> str:
        return await self._write(lambda conn: self._add_patient(conn, patient, now))

    async def add_slot(self, provider: str, starts_at: datetime) -> str:
        return await self._write(lambda conn: self._add_slot(conn, provider, starts_at))

    async def book(
        self, patient_id: str, slot_id: str, *, now: datetime
    ) -> tuple[BookingSeen, str | None]:
        return await self._write(lambda conn: self._book(conn, patient_id, slot_id, now))

    async def cancel(
        self, appointment_id: str, *, now: datetime
    ) -> tuple[Appointment | None, bool]:
        def cancel(conn: sqlite3.Connection) -> tuple[Appointment | None, bool]:
            current = _appointment(conn, appointment_id)
            if rules.cancel_refusal(current, now=now) is not None or current is None:
                return current, False
            conn.execute(
                "UPDATE appointments SET status = 'cancelled', updated_at = ? WHERE id = ?",
                (_text(now), appointment_id),
            )
            _event(conn, appointment_id, now, "cancelled", current.slot_id, None)
            return current, True

        return await self._write(cancel)

    async def reschedule(
        self, appointment_id: str, new_slot_id: str, *, now: datetime
    ) -> tuple[MoveSeen, bool]:
        def move(conn: sqlite3.Connection) -> tuple[MoveSeen, bool]:
            current = _appointment(conn, appointment_id)
            found = _slot(conn, new_slot_id)
            seen = MoveSeen(current, *(found or (None, False)))
            if rules.move_refusal(seen, now=now) is not None or current is None:
                return seen, False
            try:
                conn.execute(
                    "UPDATE appointments SET slot_id = ?, updated_at = ? WHERE id = ?",
                    (new_slot_id, _text(now), appointment_id),
                )
            except sqlite3.IntegrityError:  # the UNIQUE index: belt and braces
                return seen, False
            _event(conn, appointment_id, now, "rescheduled", new_slot_id, current.slot_id)
            return seen, True

        return await self._write(move)

    async def load_demo(self, plan: DemoPlan, *, now: datetime) -> bool:
        return await self._write(lambda conn: self._load_demo(conn, plan, now))

    def load_demo_sync(self, plan: DemoPlan, *, now: datetime) -> bool:
        """`load_demo` for start-up code outside an event loop (it blocks until done)."""
        return self._write_sync(lambda conn: self._load_demo(conn, plan, now))

    # ------------------------------------------------------------------ reads

    async def patient(self, patient_id: str) -> Patient | None:
        row = await self._one(PATIENT_SELECT + " WHERE id = ?", (patient_id,))
        return None if row is None else _patient(row)

    async def slot(self, slot_id: str) -> tuple[Slot, bool] | None:
        return await self._run(lambda conn: _slot(conn, slot_id))

    async def appointment(self, appointment_id: str) -> Appointment | None:
        return await self._run(lambda conn: _appointment(conn, appointment_id))

    async def phone_on_file(self, phone: E164) -> bool:
        return (
            await self._one("SELECT 1 FROM patients WHERE phone = ? LIMIT 1", (phone,)) is not None
        )

    async def patients_with_phone(self, phone: E164) -> list[Patient]:
        query = PATIENT_SELECT + " WHERE phone = ? ORDER BY full_name, id"
        return [_patient(row) for row in await self._all(query, (phone,))]

    async def patients_by_name_keys(
        self, keys: NameKeys, *, date_of_birth: date | None, after_id: str, limit: int
    ) -> list[Patient]:
        when = date_of_birth.isoformat() if date_of_birth is not None else None
        last, first = json.dumps(sorted(keys.last)), json.dumps(sorted(keys.first))
        rows = await self._all(_BY_NAME_KEYS, (when, when, after_id, last, first, limit))
        return [_patient(row) for row in rows]

    async def appointments_for(
        self, patient_id: str, *, after: datetime | None, statuses: Sequence[AppointmentStatus]
    ) -> list[Appointment]:
        since = "" if after is None else _text(after)
        params = (patient_id, since, json.dumps(list(statuses)))
        return [_to_appointment(row) for row in await self._all(_APPOINTMENTS_FOR_PATIENT, params)]

    async def open_slots(
        self, window: SlotWindow, provider_ids: Sequence[int] | None
    ) -> list[Slot]:
        ids = None if provider_ids is None else json.dumps(list(provider_ids))
        times = (_text(t) for t in (window.now, window.lower, window.upper))
        rows = await self._all(_OPEN_SLOTS, (*times, ids, ids, window.limit))
        return [_to_slot(row) for row in rows]

    async def providers(self) -> list[tuple[int, str]]:
        return [(int(i), str(n)) for i, n in await self._all("SELECT id, name FROM providers", ())]

    # ------------------------------------------------------------ transactions (worker thread)

    def _add_patient(self, conn: sqlite3.Connection, patient: NewPatient, now: datetime) -> str:
        patient_id = _fresh_id(conn, "patient")
        conn.execute(
            "INSERT INTO patients (id, full_name, date_of_birth, phone, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                patient_id,
                patient.full_name,
                patient.date_of_birth.isoformat(),
                patient.phone,
                _text(now),
            ),
        )
        conn.executemany(
            "INSERT INTO patient_name_keys (patient_id, part, key) VALUES (?, ?, ?)",
            name_key_rows(patient_id, patient.full_name),
        )
        return patient_id

    def _add_slot(self, conn: sqlite3.Connection, provider: str, starts_at: datetime) -> str:
        when = _text(starts_at)
        conn.execute("INSERT OR IGNORE INTO providers (name) VALUES (?)", (provider,))
        (provider_id,) = conn.execute(
            "SELECT id FROM providers WHERE name = ?", (provider,)
        ).fetchone()
        existing = conn.execute(
            "SELECT id FROM slots WHERE provider_id = ? AND starts_at = ?", (provider_id, when)
        ).fetchone()
        if existing is not None:
            return str(existing[0])
        slot_id = _fresh_id(conn, "slot")
        conn.execute(
            "INSERT INTO slots (id, provider_id, starts_at) VALUES (?, ?, ?)",
            (slot_id, provider_id, when),
        )
        return slot_id

    def _book(
        self, conn: sqlite3.Connection, patient_id: str, slot_id: str, now: datetime
    ) -> tuple[BookingSeen, str | None]:
        found = conn.execute("SELECT 1 FROM patients WHERE id = ?", (patient_id,)).fetchone()
        seen = BookingSeen(found is not None, *(_slot(conn, slot_id) or (None, False)))
        if rules.booking_refusal(seen, now=now) is not None:
            return seen, None
        appointment_id = _fresh_id(conn, "appointment")
        stamp = _text(now)
        try:
            conn.execute(
                "INSERT INTO appointments (id, patient_id, slot_id, status, created_at,"
                " updated_at) VALUES (?, ?, ?, 'booked', ?, ?)",
                (appointment_id, patient_id, slot_id, stamp, stamp),
            )
        except sqlite3.IntegrityError:  # the UNIQUE index: belt and braces
            return seen, None
        _event(conn, appointment_id, now, "booked", slot_id, None)
        return seen, appointment_id

    def _load_demo(self, conn: sqlite3.Connection, plan: DemoPlan, now: datetime) -> bool:
        loaded = conn.execute("SELECT 1 FROM meta WHERE key = 'demo_loaded'").fetchone()
        has_patients = conn.execute("SELECT 1 FROM patients LIMIT 1").fetchone()
        if loaded is not None or has_patients is not None:
            return False
        patient_ids = [self._add_patient(conn, p, now) for p in plan.patients]
        slot_ids = {slot: self._add_slot(conn, *slot) for slot in plan.slots}
        for patient, slot in plan.bookings:
            _, booked = self._book(conn, patient_ids[patient], slot_ids[slot], now)
            if booked is None:
                raise RuntimeError("a demo booking was refused")  # rolls the load back
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('demo_loaded', ?)", (plan.day.isoformat(),)
        )
        return True

    # ------------------------------------------------------------------ thread plumbing

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """The thread's setup: bring the file to the current schema (clinic.schema)."""
        try:
            applied = conn.execute(APPLIED_MIGRATIONS).fetchall()
        except sqlite3.OperationalError:  # no migration table yet: a new or pre-migration file
            applied = []
        if not is_current((row[0] for row in applied), "sqlite"):
            migrate(sqlite_uri(self.path), "sqlite", where=self.path)

    async def _write(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """`body` in one `BEGIN IMMEDIATE` transaction: the shape of every write."""
        try:
            return await self._thread.transaction(body)
        except sqlite3.Error as exc:
            raise Unavailable() from exc

    def _write_sync(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """`_write` for start-up code outside an event loop (it blocks until done)."""

        def in_transaction(conn: sqlite3.Connection) -> T:
            with immediate(conn):
                return body(conn)

        try:
            return self._thread.run_sync(in_transaction)
        except sqlite3.Error as exc:
            raise Unavailable() from exc

    async def _one(self, query: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = await self._run(
            lambda conn: conn.execute(query, params).fetchone()
        )
        return row

    async def _all(self, query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return await self._run(lambda conn: conn.execute(query, params).fetchall())

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return await self._thread.run(fn)
        except sqlite3.Error as exc:
            raise Unavailable() from exc


def sqlite_uri(path: str) -> str:
    """The yoyo URI of a SQLite file ("sqlite:///relative" or "sqlite:////absolute")."""
    return "sqlite:///" + path


def _text(value: datetime) -> str:
    """ISO-8601 to the second: how the file stores times (they sort and compare as text)."""
    return value.replace(microsecond=0).isoformat(timespec="seconds")


def _fresh_id(conn: sqlite3.Connection, kind: IdKind) -> str:
    """A random id not yet used; inside a write transaction, so no one else can take it."""
    while True:
        candidate = new_id(kind)
        if conn.execute(_ID_EXISTS[kind], (candidate,)).fetchone() is None:
            return candidate


def _event(
    conn: sqlite3.Connection,
    appointment_id: str,
    now: datetime,
    action: str,
    slot_id: str,
    previous_slot_id: str | None,
) -> None:
    conn.execute(
        "INSERT INTO appointment_events (appointment_id, at, action, slot_id,"
        " previous_slot_id) VALUES (?, ?, ?, ?, ?)",
        (appointment_id, _text(now), action, slot_id, previous_slot_id),
    )


def _appointment(conn: sqlite3.Connection, appointment_id: str) -> Appointment | None:
    row = conn.execute(APPOINTMENT_SELECT + " WHERE a.id = ?", (appointment_id,)).fetchone()
    return None if row is None else _to_appointment(row)


def _slot(conn: sqlite3.Connection, slot_id: str) -> tuple[Slot, bool] | None:
    row = conn.execute(SLOT_WITH_BOOKING + " WHERE s.id = ?", (slot_id,)).fetchone()
    return None if row is None else (_to_slot(row), bool(row[3]))


def _patient(row: tuple[Any, ...]) -> Patient:
    return Patient(
        id=row[0], full_name=row[1], date_of_birth=date.fromisoformat(row[2]), phone=row[3]
    )


def _to_slot(row: tuple[Any, ...]) -> Slot:
    return Slot(id=row[0], provider=row[1], starts_at=datetime.fromisoformat(row[2]))


def _to_appointment(row: tuple[Any, ...]) -> Appointment:
    status: AppointmentStatus = "cancelled" if row[5] == "cancelled" else "booked"
    return Appointment(row[0], row[1], row[2], row[3], datetime.fromisoformat(row[4]), status)


__all__ = ["DEFAULT_BUSY_TIMEOUT_SECONDS", "SqliteBackend", "sqlite_uri"]
