"""`ClinicDB`: the clinic records in one SQLite file, the embedded default `ClinicRecords`.

Why it is built this way:

* LiveKit runs each call in its own process, so the records live in one SQLite file shared by
  every call on the machine. WAL lets readers proceed while one call writes; every write is a
  `BEGIN IMMEDIATE` transaction (the write lock is taken up front, so two calls never both read
  "slot is free" and then both write), and the schema's partial unique index allows at most
  one booked appointment per slot (`clinic.schema`).
* The API is async and never blocks the event loop: each `ClinicDB` owns one
  `verification.sqlite_thread.SqliteThread` (one connection on one private worker thread, safe
  across fork), and every method hands its SQL to that thread. Name matching runs there too.
* Times are naive clinic-local `datetime`s stored as ISO-8601 text to the second, so they sort
  and compare as strings. "Now" comes from `clock` (`clinic.clock.clinic_clock` by default).
* Ids are short random strings from `clinic.ids`; a reschedule keeps the appointment's id and
  moves it to the new slot (history goes to `appointment_events`).

For several machines use `clinic.postgres.PostgresRecords` (`clinic.open_records(url)`).
Bad input from a developer raises `ValueError`; a request the records cannot satisfy raises a
`clinic.errors.ClinicError` whose message is safe to say to the caller.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Callable
from datetime import date, datetime
from types import TracebackType
from typing import Any, Final, Self, TypeVar

from verification.phone import mask_phone, normalize_phone
from verification.sqlite_thread import SqliteThread, immediate

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

DEFAULT_BUSY_TIMEOUT_SECONDS: Final = 5.0
# The most records one lookup by name compares (a name shared by more is no identity anyway)
MAX_NAME_CANDIDATES: Final = 200

_ID_EXISTS: Final[dict[IdKind, str]] = {
    "patient": "SELECT 1 FROM patients WHERE id = ?",
    "slot": "SELECT 1 FROM slots WHERE id = ?",
    "appointment": "SELECT 1 FROM appointments WHERE id = ?",
}
_APPOINTMENTS_FOR_PATIENT: Final = """
SELECT a.id, a.patient_id, a.slot_id, p.name, s.starts_at, a.status
FROM appointments AS a
JOIN slots AS s ON s.id = a.slot_id
JOIN providers AS p ON p.id = s.provider_id
WHERE a.patient_id = ? AND s.starts_at > ? AND a.status IN (SELECT value FROM json_each(?))
ORDER BY s.starts_at, a.id
"""
_OPEN_SLOTS: Final = """
SELECT s.id, p.name, s.starts_at
FROM slots AS s
JOIN providers AS p ON p.id = s.provider_id
WHERE s.starts_at > ? AND s.starts_at >= ? AND s.starts_at < ?
  AND (? IS NULL OR s.provider_id IN (SELECT value FROM json_each(?)))
  AND NOT EXISTS (SELECT 1 FROM appointments AS a WHERE a.slot_id = s.id AND a.status = 'booked')
ORDER BY s.starts_at, p.name
LIMIT ?
"""
# Records whose first and last name parts each share a key with the spoken name's: the only
# ones `names_match` can accept (clinic.names.name_keys).
_BY_NAME_KEYS: Final = """
SELECT id, full_name, date_of_birth, phone FROM patients
WHERE (? IS NULL OR date_of_birth = ?)
  AND id IN (SELECT patient_id FROM patient_name_keys
             WHERE part = 'L' AND key IN (SELECT value FROM json_each(?)))
  AND id IN (SELECT patient_id FROM patient_name_keys
             WHERE part = 'F' AND key IN (SELECT value FROM json_each(?)))
ORDER BY id
LIMIT ?
"""
_SLOT_IS_BOOKED: Final = (
    "SELECT 1 FROM appointments WHERE slot_id = ? AND status = 'booked' LIMIT 1"
)


class ClinicDB:
    """The clinic's records in one SQLite file; a `ClinicRecords` and a `PhoneDirectory`.

    Create it anywhere (the constructor touches no files); the connection opens and the schema
    is brought up to date on first use, on the worker thread. Safe to share between tasks of
    one process; a forked copy opens its own connection.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
        clock: Clock | None = None,
    ) -> None:
        if os.fspath(path) == ":memory:" or os.fspath(path).startswith("file:"):
            raise ValueError("ClinicDB needs a file path (the schema is migrated through it)")
        self._thread = SqliteThread(
            path, setup=self._migrate, busy_timeout=busy_timeout, thread_name="clinic-db"
        )
        self.path = self._thread.path
        self.busy_timeout = busy_timeout
        self._clock = clock if clock is not None else clinic_clock()

    # ------------------------------------------------------------------ factories, lifecycle

    @classmethod
    def demo(
        cls,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
        clock: Clock | None = None,
    ) -> Self:
        """Open `path` and load the demo data if the database is empty; return it ready.

        Synchronous on purpose, for start-up code (it blocks for a few milliseconds once).
        Idempotent, also across processes racing to load it. Inside a running event loop,
        prefer `db = ClinicDB(path); await db.load_demo()`.
        """
        db = cls(path, busy_timeout=busy_timeout, clock=clock)
        try:
            db._run_sync(db._load_demo_tx)
        except BaseException:
            db.close()
            raise
        return db

    async def load_demo(self) -> bool:
        """Load the demo data unless the database already has patients; True if it loaded."""
        return await self._run(self._load_demo_tx)

    async def open(self) -> None:
        """Open the connection and create the schema now rather than on first use."""
        await self._run(lambda conn: None)

    def now(self) -> datetime:
        """Clinic-local time now (naive), as the records see it."""
        return self._clock().replace(microsecond=0)

    async def aclose(self) -> None:
        """Close the connection and stop the worker thread."""
        await self._thread.aclose()

    def close(self) -> None:
        """Synchronous `aclose`, for start-up/shut-down code outside the event loop."""
        self._thread.close()

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

    # ------------------------------------------------------------------ writes

    async def add_patient(self, full_name: str, date_of_birth: date, phone: str) -> str:
        """Add a patient; `phone` is stored as E.164. Returns the new patient id."""
        name = rules.clean_patient_name(full_name)
        dob = rules.as_date(date_of_birth)
        phone_e164 = normalize_phone(phone)
        patient_id = await self._transaction(
            lambda conn: self._add_patient_tx(conn, name, dob, phone_e164)
        )
        logger.info(
            "patient added", extra={"patient_id": patient_id, "phone": mask_phone(phone_e164)}
        )
        return patient_id

    async def add_slot(self, provider: str, starts_at: datetime) -> str:
        """Open a slot for `provider` (created if new) at naive clinic-local `starts_at`.

        Idempotent: if that provider already has a slot at that time, its id is returned.
        """
        name = rules.clean_provider(provider)
        when = rules.fmt_time(rules.check_slot_time(starts_at))
        return await self._transaction(lambda conn: self._add_slot_tx(conn, name, when))

    async def book(self, patient_id: str, slot_id: str) -> str:
        """Book an open, future slot for a patient; returns the new appointment id."""
        pid, sid = normalize_id(patient_id), normalize_id(slot_id)
        appointment_id = await self._transaction(lambda conn: self._book_tx(conn, pid, sid))
        logger.info(
            "appointment booked",
            extra={"appointment_id": appointment_id, "patient_id": pid, "slot_id": sid},
        )
        return appointment_id

    async def cancel(self, appointment_id: str) -> Appointment:
        """Cancel a future booked appointment; its slot opens again at once."""
        aid = normalize_id(appointment_id)
        appointment = await self._transaction(lambda conn: self._cancel_tx(conn, aid))
        logger.info(
            "appointment cancelled",
            extra={"appointment_id": aid, "slot_id": appointment.slot_id},
        )
        return appointment

    async def reschedule(self, appointment_id: str, new_slot_id: str) -> Appointment:
        """Move a future booked appointment to another open, future slot, in one transaction.

        The appointment keeps its id; its old slot opens again in the same commit. If the new
        slot is taken (even by a call that won a race a millisecond earlier) this raises
        `SlotTaken` and nothing changes.
        """
        aid, sid = normalize_id(appointment_id), normalize_id(new_slot_id)
        appointment, previous = await self._transaction(
            lambda conn: self._reschedule_tx(conn, aid, sid)
        )
        logger.info(
            "appointment rescheduled",
            extra={"appointment_id": aid, "slot_id": sid, "previous_slot_id": previous},
        )
        return appointment

    # ------------------------------------------------------------------ reads

    async def get_appointment(self, appointment_id: str) -> Appointment:
        aid = normalize_id(appointment_id)
        return await self._run(lambda conn: self._get_appointment(conn, aid))

    async def get_patient(self, patient_id: str) -> Patient:
        pid = normalize_id(patient_id)

        def read(conn: sqlite3.Connection) -> Patient:
            row = conn.execute(PATIENT_SELECT + " WHERE id = ?", (pid,)).fetchone()
            if row is None:
                raise NotFound("patient")
            return _patient(row)

        return await self._run(read)

    async def get_slot(self, slot_id: str) -> Slot:
        """A slot by id, open or not (use `is_slot_open` to ask which)."""
        sid = normalize_id(slot_id)
        return await self._run(lambda conn: self._get_slot(conn, sid))

    async def is_slot_open(self, slot_id: str) -> bool:
        """True if the slot exists, is in the future and has no booked appointment."""
        sid = normalize_id(slot_id)

        def read(conn: sqlite3.Connection) -> bool:
            slot = self._get_slot(conn, sid)
            if slot.starts_at <= self.now():
                return False
            return conn.execute(_SLOT_IS_BOOKED, (sid,)).fetchone() is None

        return await self._run(read)

    async def is_on_file(self, phone_e164: str) -> bool:
        """`verification.PhoneDirectory`: is this number on any patient's record?"""
        try:
            phone = normalize_phone(phone_e164)
        except ValueError:
            return False
        return await self._run(
            lambda conn: (
                conn.execute("SELECT 1 FROM patients WHERE phone = ? LIMIT 1", (phone,)).fetchone()
                is not None
            )
        )

    async def patients_with_phone(self, phone_e164: str) -> list[Patient]:
        """Every patient whose record holds this number (a family may share one)."""
        try:
            phone = normalize_phone(phone_e164)
        except ValueError:
            return []
        rows = await self._run(
            lambda conn: conn.execute(
                PATIENT_SELECT + " WHERE phone = ? ORDER BY full_name, id", (phone,)
            ).fetchall()
        )
        return [_patient(row) for row in rows]

    async def find_patient(self, full_name: str, date_of_birth: str | date) -> Patient | None:
        """The one patient with exactly this date of birth whose name matches what was said.

        The date must match exactly (a string is parsed with `parse_date`, whose `ValueError`
        propagates). The name may differ in case, spacing, punctuation, accents and
        speech-to-text spelling (see `clinic.names`). If an exact name match exists it wins;
        otherwise, if several records match loosely, this returns None rather than guess.
        """
        dob = parse_date(date_of_birth) if isinstance(date_of_birth, str) else date_of_birth
        dob = rules.as_date(dob)

        def read(conn: sqlite3.Connection) -> tuple[Patient | None, int]:
            candidates = self._named(conn, full_name, dob)
            if len(candidates) >= MAX_NAME_CANDIDATES:
                return None, len(candidates)
            return rules.pick_patient(full_name, candidates)

        patient, matched = await self._run(read)
        if matched > 1:
            logger.warning(
                "ambiguous patient match; refusing to guess", extra={"candidates": matched}
            )
        return patient

    async def patients_named(self, full_name: str) -> list[Patient]:
        """Every record whose name matches the spoken name, whatever its date of birth.

        Used to count a wrong date of birth against the record it was aimed at. At most
        `MAX_NAMED_PATIENTS` records, in id order. The lookup reads only records indexed under
        the name's keys, and the matching runs on the records' thread.
        """

        def read(conn: sqlite3.Connection) -> list[Patient]:
            matched = [
                p for p in self._named(conn, full_name) if names_match(full_name, p.full_name)
            ]
            return matched[:MAX_NAMED_PATIENTS]

        return await self._run(read)

    async def appointments_for(
        self, patient_id: str, *, include_past: bool = False, include_cancelled: bool = False
    ) -> list[Appointment]:
        """A patient's appointments in time order; by default only upcoming booked ones.

        An unknown patient id simply has no appointments.
        """
        pid = normalize_id(patient_id)
        after = "" if include_past else rules.fmt_time(self.now())
        statuses = ["booked", "cancelled"] if include_cancelled else ["booked"]

        def read(conn: sqlite3.Connection) -> list[Appointment]:
            rows = conn.execute(
                _APPOINTMENTS_FOR_PATIENT, (pid, after, json.dumps(statuses))
            ).fetchall()
            return [_appointment(row) for row in rows]

        return await self._run(read)

    async def open_slots(
        self,
        *,
        start: date | None = None,
        end: date | None = None,
        provider: str | None = None,
        limit: int = 10,
    ) -> list[Slot]:
        """Future slots with no booked appointment, earliest first.

        `start`/`end` are inclusive days; `provider` matches case-insensitively and partially,
        ignoring titles ("Dr. Patel", "patel", "doctor pat"). An unknown provider raises
        `NotFound("provider")`, so the agent can say so rather than "no times free".
        """
        window = rules.slot_window(now=self.now(), start=start, end=end, limit=limit)
        query_words = rules.provider_words(provider) if provider else []

        def read(conn: sqlite3.Connection) -> list[Slot]:
            provider_filter: str | None = None
            if query_words:
                names = conn.execute("SELECT id, name FROM providers").fetchall()
                ids = [pid for pid, name in names if rules.provider_matches(query_words, name)]
                if not ids:
                    raise NotFound("provider")
                provider_filter = json.dumps(ids)
            rows = conn.execute(
                _OPEN_SLOTS,
                (
                    rules.fmt_time(window.now),
                    rules.fmt_time(window.lower),
                    rules.fmt_time(window.upper),
                    provider_filter,
                    provider_filter,
                    window.limit,
                ),
            ).fetchall()
            return [_slot(row) for row in rows]

        return await self._run(read)

    async def providers(self) -> list[str]:
        """Provider names, alphabetically."""
        rows = await self._run(
            lambda conn: conn.execute("SELECT name FROM providers ORDER BY name").fetchall()
        )
        return [str(row[0]) for row in rows]

    # ------------------------------------------------------------ transactions (worker thread)

    def _add_patient_tx(
        self, conn: sqlite3.Connection, name: str, dob: date, phone_e164: str
    ) -> str:
        patient_id = self._fresh_id(conn, "patient")
        conn.execute(
            "INSERT INTO patients (id, full_name, date_of_birth, phone, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (patient_id, name, dob.isoformat(), phone_e164, rules.fmt_time(self.now())),
        )
        conn.executemany(
            "INSERT INTO patient_name_keys (patient_id, part, key) VALUES (?, ?, ?)",
            name_key_rows(patient_id, name),
        )
        return patient_id

    def _named(
        self, conn: sqlite3.Connection, full_name: str, dob: date | None = None
    ) -> list[Patient]:
        """Candidates for a spoken name (and date of birth): bounded, found through the index."""
        keys = name_keys(full_name)
        if not keys:
            return []
        when = dob.isoformat() if dob is not None else None
        rows = conn.execute(
            _BY_NAME_KEYS,
            (
                when,
                when,
                json.dumps(sorted(keys.last)),
                json.dumps(sorted(keys.first)),
                MAX_NAME_CANDIDATES,
            ),
        ).fetchall()
        return [_patient(row) for row in rows]

    def _add_slot_tx(self, conn: sqlite3.Connection, provider: str, when: str) -> str:
        conn.execute("INSERT OR IGNORE INTO providers (name) VALUES (?)", (provider,))
        (provider_id,) = conn.execute(
            "SELECT id FROM providers WHERE name = ?", (provider,)
        ).fetchone()
        existing = conn.execute(
            "SELECT id FROM slots WHERE provider_id = ? AND starts_at = ?", (provider_id, when)
        ).fetchone()
        if existing is not None:
            return str(existing[0])
        slot_id = self._fresh_id(conn, "slot")
        conn.execute(
            "INSERT INTO slots (id, provider_id, starts_at) VALUES (?, ?, ?)",
            (slot_id, provider_id, when),
        )
        return slot_id

    def _book_tx(self, conn: sqlite3.Connection, patient_id: str, slot_id: str) -> str:
        if conn.execute("SELECT 1 FROM patients WHERE id = ?", (patient_id,)).fetchone() is None:
            raise NotFound("patient")
        rules.check_bookable(self._get_slot(conn, slot_id), now=self.now())
        if conn.execute(_SLOT_IS_BOOKED, (slot_id,)).fetchone() is not None:
            raise SlotTaken()
        appointment_id = self._fresh_id(conn, "appointment")
        stamp = rules.fmt_time(self.now())
        try:
            conn.execute(
                "INSERT INTO appointments (id, patient_id, slot_id, status, created_at,"
                " updated_at) VALUES (?, ?, ?, 'booked', ?, ?)",
                (appointment_id, patient_id, slot_id, stamp, stamp),
            )
        except sqlite3.IntegrityError as exc:  # the UNIQUE index: belt and braces
            raise SlotTaken() from exc
        self._event(conn, appointment_id, "booked", slot_id, None)
        return appointment_id

    def _cancel_tx(self, conn: sqlite3.Connection, appointment_id: str) -> Appointment:
        current = self._get_appointment(conn, appointment_id)
        rules.check_cancellable(current, now=self.now())
        cursor = conn.execute(
            "UPDATE appointments SET status = 'cancelled', updated_at = ?"
            " WHERE id = ? AND status = 'booked'",
            (rules.fmt_time(self.now()), appointment_id),
        )
        if cursor.rowcount != 1:
            raise AlreadyCancelled()
        self._event(conn, appointment_id, "cancelled", current.slot_id, None)
        return self._get_appointment(conn, appointment_id)

    def _reschedule_tx(
        self, conn: sqlite3.Connection, appointment_id: str, new_slot_id: str
    ) -> tuple[Appointment, str]:
        current = self._get_appointment(conn, appointment_id)
        now = self.now()
        rules.check_movable(current, now=now)
        new_slot = self._get_slot(conn, new_slot_id)
        rules.check_new_slot(current, new_slot, now=now)
        if conn.execute(_SLOT_IS_BOOKED, (new_slot.id,)).fetchone() is not None:
            raise SlotTaken()
        try:
            cursor = conn.execute(
                "UPDATE appointments SET slot_id = ?, updated_at = ?"
                " WHERE id = ? AND status = 'booked' AND slot_id = ?",
                (new_slot.id, rules.fmt_time(now), appointment_id, current.slot_id),
            )
        except sqlite3.IntegrityError as exc:  # the UNIQUE index: belt and braces
            raise SlotTaken() from exc
        if cursor.rowcount != 1:  # cannot happen under BEGIN IMMEDIATE; refuse, don't guess
            raise SlotTaken()
        self._event(conn, appointment_id, "rescheduled", new_slot.id, current.slot_id)
        return self._get_appointment(conn, appointment_id), current.slot_id

    def _load_demo_tx(self, conn: sqlite3.Connection) -> bool:
        def load() -> bool:
            loaded = conn.execute("SELECT 1 FROM meta WHERE key = 'demo_loaded'").fetchone()
            has_patients = conn.execute("SELECT 1 FROM patients LIMIT 1").fetchone()
            if loaded is not None or has_patients is not None:
                return False
            today = self.now().date()
            patient_ids = {
                p: self._add_patient_tx(conn, p.full_name, p.date_of_birth, p.phone)
                for p in demo_data.DEMO_PATIENTS
            }
            slot_ids = {
                (provider, when): self._add_slot_tx(conn, provider, rules.fmt_time(when))
                for provider, when in demo_data.demo_slot_times(today)
            }
            for booking in demo_data.DEMO_BOOKINGS:
                when = demo_data.booking_time(booking, today)
                self._book_tx(conn, patient_ids[booking.patient], slot_ids[booking.provider, when])
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('demo_loaded', ?)", (today.isoformat(),)
            )
            return True

        with immediate(conn):
            loaded = load()
        if loaded:
            logger.info("demo data loaded", extra={"db_path": self.path})
        return loaded

    # ------------------------------------------------------------------ helpers (worker thread)

    def _get_appointment(self, conn: sqlite3.Connection, appointment_id: str) -> Appointment:
        row = conn.execute(APPOINTMENT_SELECT + " WHERE a.id = ?", (appointment_id,)).fetchone()
        if row is None:
            raise NotFound("appointment")
        return _appointment(row)

    def _get_slot(self, conn: sqlite3.Connection, slot_id: str) -> Slot:
        row = conn.execute(SLOT_SELECT + " WHERE s.id = ?", (slot_id,)).fetchone()
        if row is None:
            raise NotFound("slot")
        return _slot(row)

    def _fresh_id(self, conn: sqlite3.Connection, kind: IdKind) -> str:
        """A random id not yet used; inside a write transaction, so no one else can take it."""
        while True:
            candidate = new_id(kind)
            if conn.execute(_ID_EXISTS[kind], (candidate,)).fetchone() is None:
                return candidate

    def _event(
        self,
        conn: sqlite3.Connection,
        appointment_id: str,
        action: str,
        slot_id: str,
        previous_slot_id: str | None,
    ) -> None:
        conn.execute(
            "INSERT INTO appointment_events (appointment_id, at, action, slot_id,"
            " previous_slot_id) VALUES (?, ?, ?, ?, ?)",
            (appointment_id, rules.fmt_time(self.now()), action, slot_id, previous_slot_id),
        )

    # ------------------------------------------------------------------ thread plumbing

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """The thread's setup: bring the file to the current schema (clinic.schema)."""
        try:
            applied = conn.execute(APPLIED_MIGRATIONS).fetchall()
        except sqlite3.OperationalError:  # no migration table yet: a new or pre-migration file
            applied = []
        if not is_current((row[0] for row in applied), "sqlite"):
            migrate(sqlite_uri(self.path), "sqlite", where=self.path)

    async def _transaction(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """`body` in one `BEGIN IMMEDIATE` transaction: the shape of every write."""
        return await self._run(lambda conn: _in_transaction(conn, body))

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return await self._thread.run(fn)
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc

    def _run_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return self._thread.run_sync(fn)
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: sqlite3.Error) -> Unavailable:
        logger.error(
            "clinic database error",
            extra={"error": type(exc).__name__, "db_path": self.path},
            exc_info=exc,
        )
        return Unavailable()


def sqlite_uri(path: str) -> str:
    """The yoyo URI of a SQLite file ("sqlite:///relative" or "sqlite:////absolute")."""
    return "sqlite:///" + path


def _in_transaction(conn: sqlite3.Connection, body: Callable[[sqlite3.Connection], T]) -> T:
    with immediate(conn):
        return body(conn)


def _patient(row: tuple[Any, ...] | sqlite3.Row) -> Patient:
    return Patient(
        id=row[0], full_name=row[1], date_of_birth=date.fromisoformat(row[2]), phone=row[3]
    )


def _slot(row: tuple[Any, ...]) -> Slot:
    return Slot(id=row[0], provider=row[1], starts_at=datetime.fromisoformat(row[2]))


def _appointment(row: tuple[Any, ...]) -> Appointment:
    status: AppointmentStatus = "cancelled" if row[5] == "cancelled" else "booked"
    return Appointment(
        id=row[0],
        patient_id=row[1],
        slot_id=row[2],
        provider=row[3],
        starts_at=datetime.fromisoformat(row[4]),
        status=status,
    )


__all__ = ["DEFAULT_BUSY_TIMEOUT_SECONDS", "ClinicDB", "clinic_clock"]
