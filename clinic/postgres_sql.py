"""The PostgreSQL backend's statements: each write is one statement, so one round trip.

A booking, a cancellation and a reschedule each go to the server once, as a single
statement whose common table expressions lock the rows it decides on (`FOR UPDATE`), write
only when `clinic.rules` would let them, log the change in `appointment_events`, and return
what they read, so `ClinicRecords` can say why a refused write was refused. A statement is
its own transaction (the pool's connections are in autocommit): all of it commits, or none.

The conditions in each `WHERE` below are those of `clinic.rules.booking_refusal`,
`cancel_refusal` and `move_refusal`, in SQL; the records suite (`tests/clinic/`) runs every
refusal on both backends and checks that nothing changed. Concurrency, in READ COMMITTED:

* all parts of a statement share one snapshot, taken when it starts; a lock waited for is
  re-read at its latest version, but "is the slot taken" is read in that snapshot, so a
  booking committed while we waited for the slot's lock is caught by the partial unique
  index `one_booking_per_slot` instead: a booking's `ON CONFLICT ... DO NOTHING` writes
  nothing (reported as `SlotTaken`), a move's `UPDATE` fails and is run again;
* locks are taken appointment first, then slot (the slot's lock is gated on the appointment
  having been read), so two writers never wait on each other in a cycle.
"""

from __future__ import annotations

from typing import Final

from .queries import APPOINTMENT_SELECT, PATIENT_SELECT, SLOT_BOOKED, SLOT_SELECT

# Parameters: id (the new appointment's), patient, slot, now.
BOOK: Final = """
WITH slot AS (
    SELECT s.id, p.name AS provider, s.starts_at
    FROM slots AS s JOIN providers AS p ON p.id = s.provider_id
    WHERE s.id = %(slot)s
    FOR UPDATE OF s
), seen AS (
    SELECT EXISTS (SELECT 1 FROM patients WHERE id = %(patient)s) AS patient_found,
           EXISTS (SELECT 1 FROM appointments
                   WHERE slot_id = %(slot)s AND status = 'booked') AS taken
), booked AS (
    INSERT INTO appointments (id, patient_id, slot_id, status, created_at, updated_at)
    SELECT %(id)s, %(patient)s, slot.id, 'booked', %(now)s, %(now)s
    FROM slot, seen
    WHERE seen.patient_found AND slot.starts_at > %(now)s AND NOT seen.taken
    ON CONFLICT (slot_id) WHERE status = 'booked' DO NOTHING
    RETURNING id, slot_id
), logged AS (
    INSERT INTO appointment_events (appointment_id, at, action, slot_id, previous_slot_id)
    SELECT id, %(now)s, 'booked', slot_id, NULL FROM booked
)
SELECT seen.patient_found, slot.id, slot.provider, slot.starts_at, seen.taken,
       (SELECT id FROM booked)
FROM seen LEFT JOIN slot ON true
"""

_CURRENT: Final = """
WITH current AS (
    SELECT a.id, a.patient_id, a.slot_id, p.name AS provider, s.starts_at, a.status
    FROM appointments AS a
    JOIN slots AS s ON s.id = a.slot_id JOIN providers AS p ON p.id = s.provider_id
    WHERE a.id = %(appointment)s
    FOR UPDATE OF a
)"""

# Parameters: appointment, now.
CANCEL: Final = (
    _CURRENT  # noqa: S608 (constants joined, no input: every value is a bound parameter)
    + """, cancelled AS (
    UPDATE appointments AS a SET status = 'cancelled', updated_at = %(now)s
    FROM current
    WHERE a.id = current.id AND current.status = 'booked' AND current.starts_at > %(now)s
    RETURNING a.id, a.slot_id
), logged AS (
    INSERT INTO appointment_events (appointment_id, at, action, slot_id, previous_slot_id)
    SELECT id, %(now)s, 'cancelled', slot_id, NULL FROM cancelled
)
SELECT current.*, EXISTS (SELECT 1 FROM cancelled) FROM current
"""
)

# Parameters: appointment, slot (the new one), now.
RESCHEDULE: Final = (
    _CURRENT  # noqa: S608 (constants joined, no input: every value is a bound parameter)
    + """, target AS (
    SELECT s.id, p.name AS provider, s.starts_at
    FROM slots AS s JOIN providers AS p ON p.id = s.provider_id
    WHERE s.id = %(slot)s AND EXISTS (SELECT 1 FROM current)
    FOR UPDATE OF s
), seen AS (
    SELECT EXISTS (SELECT 1 FROM appointments
                   WHERE slot_id = %(slot)s AND status = 'booked') AS taken
), moved AS (
    UPDATE appointments AS a SET slot_id = target.id, updated_at = %(now)s
    FROM current, target, seen
    WHERE a.id = current.id AND current.status = 'booked' AND current.starts_at > %(now)s
      AND target.id <> current.slot_id AND target.starts_at > %(now)s AND NOT seen.taken
    RETURNING a.id
), logged AS (
    INSERT INTO appointment_events (appointment_id, at, action, slot_id, previous_slot_id)
    SELECT moved.id, %(now)s, 'rescheduled', target.id, current.slot_id
    FROM moved, current, target
)
SELECT current.id, current.patient_id, current.slot_id, current.provider, current.starts_at,
       current.status, target.id, target.provider, target.starts_at, seen.taken,
       EXISTS (SELECT 1 FROM moved)
FROM seen LEFT JOIN current ON true LEFT JOIN target ON true
"""
)

# Parameters: id, name, dob, phone, now, parts, keys (the name keys, as two arrays).
ADD_PATIENT: Final = """
WITH added AS (
    INSERT INTO patients (id, full_name, date_of_birth, phone, created_at)
    VALUES (%(id)s, %(name)s, %(dob)s, %(phone)s, %(now)s)
    ON CONFLICT (id) DO NOTHING
    RETURNING id
), keyed AS (
    INSERT INTO patient_name_keys (patient_id, part, key)
    SELECT added.id, k.part, k.key
    FROM added, unnest(%(parts)s::text[], %(keys)s::text[]) AS k (part, key)
)
SELECT id FROM added
"""

APPOINTMENTS_FOR_PATIENT: Final = (
    APPOINTMENT_SELECT
    + """
WHERE a.patient_id = %(patient)s AND a.status = ANY(%(statuses)s)
  AND (%(after)s::timestamp IS NULL OR s.starts_at > %(after)s)
ORDER BY s.starts_at, a.id
"""
)

OPEN_SLOTS: Final = f"""{SLOT_SELECT}
WHERE s.starts_at > %(now)s AND s.starts_at >= %(lower)s AND s.starts_at < %(upper)s
  AND (%(providers)s::bigint[] IS NULL OR s.provider_id = ANY(%(providers)s))
  AND NOT {SLOT_BOOKED}
ORDER BY s.starts_at, p.name
LIMIT %(limit)s
"""

# Records whose first and last name parts each share a key with the spoken name's.
BY_NAME_KEYS: Final = (
    PATIENT_SELECT  # noqa: S608 (constants joined, no input: every value is a bound parameter)
    + """
WHERE (%(dob)s::date IS NULL OR date_of_birth = %(dob)s) AND id > %(after)s
  AND id IN (SELECT patient_id FROM patient_name_keys WHERE part = 'L' AND key = ANY(%(last)s))
  AND id IN (SELECT patient_id FROM patient_name_keys WHERE part = 'F' AND key = ANY(%(first)s))
ORDER BY id
LIMIT %(limit)s
"""
)

ADD_SLOT: Final = """
INSERT INTO slots (id, provider_id, starts_at) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING
"""
PROVIDER_ID: Final = "SELECT id FROM providers WHERE lower(name) = lower(%s)"
ADD_PROVIDER: Final = (
    "INSERT INTO providers (name) VALUES (%s) ON CONFLICT ((lower(name))) DO NOTHING"
)
