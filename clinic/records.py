"""`ClinicRecords`: the clinic records, one implementation over any backend.

Everything the agent and `verification` ask of a clinic's records goes through this class,
and everything that is the same whatever stores the rows lives here: ids are normalised
(`clinic.ids`), phone numbers parsed once with the clinic's region, the booking rules
applied (`clinic.rules`), names matched (`clinic.names`), writes and outages logged, and
the errors a caller hears chosen. Under it a `clinic.backend.RecordsBackend` supplies only
its transactions: `ClinicDB` is this class on SQLite (one machine), `PostgresRecords` on
PostgreSQL (several machines), and a practice-management system plugs in as
`ClinicRecords(ItsBackend(...))` (docs/operations.md).

The guarantees, on every backend:

* a slot has at most one booked appointment, whoever races for it;
* a reschedule moves atomically (old slot freed and new slot taken, or nothing changes);
* a cancelled appointment stays cancelled;
* a refused write (any `ClinicError`) leaves the records unchanged;
* records that cannot be reached raise `clinic.Unavailable`, never anything else;
* names match only under `clinic.names.names_match` (fail closed), dates of birth exactly;
* a phone number handed in is E.164 (`verification.phone.E164`, parsed where it came in)
  and is compared as it is, never parsed again; `add_patient` parses with `default_region`.

Times are naive clinic-local `datetime`s; ids are the short strings of `clinic.ids`. Bad
input from a developer raises `ValueError`; a request the records cannot satisfy raises a
`ClinicError` whose message is safe to say to the caller.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from types import TracebackType
from typing import Final, Self, TypeVar

from verification.phone import E164, mask_phone, normalize_phone

from . import demo as demo_data
from . import rules
from .backend import DemoPlan, NewPatient, RecordsBackend
from .clock import Clock, clinic_clock
from .dates import parse_date
from .errors import AlreadyCancelled, NotFound, SlotTaken, Unavailable
from .ids import normalize_id
from .models import Appointment, AppointmentStatus, Patient, Slot
from .names import MAX_NAMED_PATIENTS, name_keys, names_match

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The most records one `find_patient` compares; a name and birth date shared by more is no
# identity, and the lookup refuses rather than guess.
MAX_NAME_CANDIDATES: Final = 200
# Matching more candidates than this goes to a worker thread, off the event loop.
_INLINE_MATCHES: Final = 16
_E164_SHAPE: Final = re.compile(r"\+[1-9][0-9]{1,14}")


class ClinicRecords:
    """The clinic's patients, providers, slots and appointments (see the module docstring).

    Also a `verification.PhoneDirectory` (`is_on_file`). Safe to share between the tasks of
    one process; create it anywhere, nothing connects until first use (or `open()`).
    """

    def __init__(
        self,
        backend: RecordsBackend,
        *,
        clock: Clock | None = None,
        default_region: str = "US",
    ) -> None:
        self._backend = backend
        self._clock = clock if clock is not None else clinic_clock()
        self.default_region = default_region
        self._closed = False

    @property
    def where(self) -> str:
        """Which store holds the records (no credentials)."""
        return self._backend.where

    # ------------------------------------------------------------------ lifecycle

    def now(self) -> datetime:
        """Clinic-local time now (naive, whole seconds), as the records see it."""
        return self._clock().replace(microsecond=0)

    async def open(self) -> None:
        """Connect and bring the schema to the current version now rather than on first use."""
        await self._reach(self._db.open())

    async def aclose(self) -> None:
        """Release connections; later calls raise `RuntimeError`."""
        self._closed = True
        await self._backend.aclose()

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
        """Load the demo data (`clinic.demo`) unless there are patients; True if it loaded.

        Once, also when several processes race to load it."""
        now = self.now()
        loaded = await self._reach(self._db.load_demo(self._demo_plan(now.date()), now=now))
        self._demo_loaded(loaded)
        return loaded

    # ------------------------------------------------------------------ writes

    async def add_patient(self, full_name: str, date_of_birth: date, phone: str) -> str:
        """Add a patient; `phone` is parsed with the records' `default_region` and stored as
        E.164. Returns the new patient id."""
        patient = NewPatient(
            rules.clean_patient_name(full_name),
            rules.as_date(date_of_birth),
            normalize_phone(phone, self.default_region),
        )
        patient_id = await self._reach(self._db.add_patient(patient, now=self.now()))
        logger.info(
            "patient added", extra={"patient_id": patient_id, "phone": mask_phone(patient.phone)}
        )
        return patient_id

    async def add_slot(self, provider: str, starts_at: datetime) -> str:
        """Open a slot for `provider` (created if new) at naive clinic-local `starts_at`.

        Idempotent: if that provider already has a slot at that time, its id is returned.
        """
        name = rules.clean_provider(provider)
        when = rules.check_slot_time(starts_at)
        return await self._reach(self._db.add_slot(name, when))

    async def book(self, patient_id: str, slot_id: str) -> str:
        """Book an open, future slot for a patient; returns the new appointment id."""
        pid, sid = normalize_id(patient_id), normalize_id(slot_id)
        now = self.now()
        seen, appointment_id = await self._reach(self._db.book(pid, sid, now=now))
        if appointment_id is None:
            raise rules.booking_refusal(seen, now=now) or SlotTaken()
        logger.info(
            "appointment booked",
            extra={"appointment_id": appointment_id, "patient_id": pid, "slot_id": sid},
        )
        return appointment_id

    async def cancel(self, appointment_id: str) -> Appointment:
        """Cancel a future booked appointment; its slot opens again at once."""
        aid = normalize_id(appointment_id)
        now = self.now()
        current, done = await self._reach(self._db.cancel(aid, now=now))
        if current is None or not done:
            raise rules.cancel_refusal(current, now=now) or AlreadyCancelled()
        logger.info(
            "appointment cancelled", extra={"appointment_id": aid, "slot_id": current.slot_id}
        )
        return rules.cancelled(current)

    async def reschedule(self, appointment_id: str, new_slot_id: str) -> Appointment:
        """Move a future booked appointment to another open, future slot, atomically.

        The appointment keeps its id; its old slot opens again in the same commit. If the new
        slot is taken (even by a call that won a race a millisecond earlier) this raises
        `SlotTaken` and nothing changes.
        """
        aid, sid = normalize_id(appointment_id), normalize_id(new_slot_id)
        now = self.now()
        seen, done = await self._reach(self._db.reschedule(aid, sid, now=now))
        current, new_slot = seen.appointment, seen.new_slot
        if not done or current is None or new_slot is None:
            raise rules.move_refusal(seen, now=now) or SlotTaken()
        logger.info(
            "appointment rescheduled",
            extra={"appointment_id": aid, "slot_id": sid, "previous_slot_id": current.slot_id},
        )
        return rules.moved(current, new_slot)

    # ------------------------------------------------------------------ reads

    async def get_patient(self, patient_id: str) -> Patient:
        patient = await self._reach(self._db.patient(normalize_id(patient_id)))
        if patient is None:
            raise NotFound("patient")
        return patient

    async def get_slot(self, slot_id: str) -> Slot:
        """A slot by id, open or not (use `is_slot_open` to ask which)."""
        found = await self._reach(self._db.slot(normalize_id(slot_id)))
        if found is None:
            raise NotFound("slot")
        return found[0]

    async def get_appointment(self, appointment_id: str) -> Appointment:
        appointment = await self._reach(self._db.appointment(normalize_id(appointment_id)))
        if appointment is None:
            raise NotFound("appointment")
        return appointment

    async def is_slot_open(self, slot_id: str) -> bool:
        """True if the slot exists, is in the future and has no booked appointment."""
        found = await self._reach(self._db.slot(normalize_id(slot_id)))
        if found is None:
            raise NotFound("slot")
        slot, taken = found
        return slot.starts_at > self.now() and not taken

    async def is_on_file(self, phone_e164: str) -> bool:
        """`verification.PhoneDirectory`: is this E.164 number on any patient's record?"""
        phone = _as_given(phone_e164)
        return phone is not None and await self._reach(self._db.phone_on_file(phone))

    async def patients_with_phone(self, phone_e164: str) -> list[Patient]:
        """Every patient whose record holds this E.164 number (a family may share one)."""
        phone = _as_given(phone_e164)
        if phone is None:
            return []
        return await self._reach(self._db.patients_with_phone(phone))

    async def find_patient(self, full_name: str, date_of_birth: str | date) -> Patient | None:
        """The one patient with exactly this date of birth whose name matches what was said.

        The date must match exactly (a string is parsed with `parse_date`, whose `ValueError`
        propagates). The name may differ in case, spacing, punctuation, accents and
        speech-to-text spelling (see `clinic.names`). If an exact name match exists it wins;
        otherwise, if several records match loosely, this returns None rather than guess.
        """
        dob = parse_date(date_of_birth) if isinstance(date_of_birth, str) else date_of_birth
        dob = rules.as_date(dob)
        keys = name_keys(full_name)
        if not keys:
            return None
        candidates = await self._reach(
            self._db.patients_by_name_keys(
                keys, date_of_birth=dob, after_id="", limit=MAX_NAME_CANDIDATES
            )
        )
        if len(candidates) >= MAX_NAME_CANDIDATES:
            patient, matched = None, len(candidates)
        else:
            patient, matched = await _match(
                candidates, lambda found: rules.pick_patient(full_name, found)
            )
        if matched > 1:
            logger.warning(
                "ambiguous patient match; refusing to guess", extra={"candidates": matched}
            )
        return patient

    async def patients_named(self, full_name: str) -> list[Patient]:
        """Records whose name matches the spoken name, whatever their date of birth, by id.

        At most `MAX_NAMED_PATIENTS + 1`: one more than a caller may act on, so a caller
        that gets more than `MAX_NAMED_PATIENTS` knows the name is crowded. Candidates are
        read through the name index a page at a time until that many matched.
        """
        keys = name_keys(full_name)
        wanted = MAX_NAMED_PATIENTS + 1
        matched: list[Patient] = []
        after = ""
        while keys and len(matched) < wanted:
            page = await self._reach(
                self._db.patients_by_name_keys(
                    keys, date_of_birth=None, after_id=after, limit=MAX_NAME_CANDIDATES
                )
            )
            matched += await _match(
                page, lambda found: [p for p in found if names_match(full_name, p.full_name)]
            )
            if len(page) < MAX_NAME_CANDIDATES:
                break
            after = page[-1].id
        return matched[:wanted]

    async def appointments_for(
        self, patient_id: str, *, include_past: bool = False, include_cancelled: bool = False
    ) -> list[Appointment]:
        """A patient's appointments in time order; by default only upcoming booked ones.

        An unknown patient id simply has no appointments.
        """
        statuses: tuple[AppointmentStatus, ...] = (
            ("booked", "cancelled") if include_cancelled else ("booked",)
        )
        after = None if include_past else self.now()
        return await self._reach(
            self._db.appointments_for(normalize_id(patient_id), after=after, statuses=statuses)
        )

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
        provider_ids: list[int] | None = None
        if query_words:
            known = await self._reach(self._db.providers())
            provider_ids = [i for i, name in known if rules.provider_matches(query_words, name)]
            if not provider_ids:
                raise NotFound("provider")
        return await self._reach(self._db.open_slots(window, provider_ids))

    async def providers(self) -> list[str]:
        """Provider names, alphabetically."""
        return sorted(name for _, name in await self._reach(self._db.providers()))

    # ------------------------------------------------------------------ plumbing

    @property
    def _db(self) -> RecordsBackend:
        if self._closed:
            raise RuntimeError("the clinic records are closed")
        return self._backend

    async def _reach(self, work: Awaitable[T]) -> T:
        """Await the backend; an outage is logged here, once, and reaches the caller as is."""
        try:
            return await work
        except Unavailable as exc:
            self._log_outage(exc)
            raise

    def _log_outage(self, exc: Unavailable) -> None:
        cause = exc.__cause__ or exc
        logger.error(
            "clinic database error",
            extra={"error": type(cause).__name__, "db": self._backend.where},
            exc_info=cause,
        )

    def _demo_plan(self, today: date) -> DemoPlan:
        patients = tuple(
            NewPatient(p.full_name, p.date_of_birth, normalize_phone(p.phone))
            for p in demo_data.DEMO_PATIENTS
        )
        bookings = tuple(
            (
                demo_data.DEMO_PATIENTS.index(b.patient),
                (b.provider, demo_data.booking_time(b, today)),
            )
            for b in demo_data.DEMO_BOOKINGS
        )
        slots = tuple(demo_data.demo_slot_times(today))
        return DemoPlan(day=today, patients=patients, slots=slots, bookings=bookings)

    def _demo_loaded(self, loaded: bool) -> None:
        if loaded:
            logger.info("demo data loaded", extra={"db": self._backend.where})


def _as_given(phone_e164: str) -> E164 | None:
    """The number as handed in, if it has E.164's shape; never parsed again (it was parsed
    where it came in). Anything else is on no one's record."""
    if isinstance(phone_e164, E164):
        return phone_e164
    if isinstance(phone_e164, str) and _E164_SHAPE.fullmatch(phone_e164):
        return E164(phone_e164)
    return None


async def _match(candidates: list[Patient], work: Callable[[list[Patient]], T]) -> T:
    """`work(candidates)`: name matching on the loop when it is a handful, in a worker
    thread when it is more."""
    if len(candidates) <= _INLINE_MATCHES:
        return work(candidates)
    return await asyncio.to_thread(work, candidates)


__all__ = ["MAX_NAMED_PATIENTS", "MAX_NAME_CANDIDATES", "ClinicRecords"]
