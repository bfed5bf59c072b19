-- The records as the first release made them. Every statement is IF NOT EXISTS, so a file
-- made before migrations existed (same tables, no migration table) is adopted as it is.
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS providers (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE
);
CREATE TABLE IF NOT EXISTS patients (
    id            TEXT PRIMARY KEY,
    full_name     TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    phone         TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS patients_by_dob ON patients (date_of_birth);
CREATE INDEX IF NOT EXISTS patients_by_phone ON patients (phone);
CREATE TABLE IF NOT EXISTS slots (
    id          TEXT PRIMARY KEY,
    provider_id INTEGER NOT NULL REFERENCES providers (id),
    starts_at   TEXT NOT NULL,
    UNIQUE (provider_id, starts_at)
);
CREATE INDEX IF NOT EXISTS slots_by_time ON slots (starts_at);
CREATE TABLE IF NOT EXISTS appointments (
    id         TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients (id),
    slot_id    TEXT NOT NULL REFERENCES slots (id),
    status     TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS appointments_by_patient ON appointments (patient_id);
-- The invariant that matters most: a slot has at most one booked appointment.
CREATE UNIQUE INDEX IF NOT EXISTS one_booking_per_slot
    ON appointments (slot_id) WHERE status = 'booked';
CREATE TABLE IF NOT EXISTS appointment_events (
    id               INTEGER PRIMARY KEY,
    appointment_id   TEXT NOT NULL REFERENCES appointments (id),
    at               TEXT NOT NULL,
    action           TEXT NOT NULL CHECK (action IN ('booked', 'cancelled', 'rescheduled')),
    slot_id          TEXT NOT NULL,
    previous_slot_id TEXT
);
