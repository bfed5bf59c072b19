-- The records on PostgreSQL, as the first release made them (the same tables as SQLite's
-- m0001, in PostgreSQL's types).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE providers (
    id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE UNIQUE INDEX providers_by_name ON providers (lower(name));
CREATE TABLE patients (
    id            TEXT PRIMARY KEY,
    full_name     TEXT NOT NULL,
    date_of_birth DATE NOT NULL,
    phone         TEXT NOT NULL,
    created_at    TIMESTAMP(0) NOT NULL
);
CREATE INDEX patients_by_dob ON patients (date_of_birth);
CREATE INDEX patients_by_phone ON patients (phone);
CREATE TABLE slots (
    id          TEXT PRIMARY KEY,
    provider_id BIGINT NOT NULL REFERENCES providers (id),
    starts_at   TIMESTAMP(0) NOT NULL,
    UNIQUE (provider_id, starts_at)
);
CREATE INDEX slots_by_time ON slots (starts_at);
CREATE TABLE appointments (
    id         TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients (id),
    slot_id    TEXT NOT NULL REFERENCES slots (id),
    status     TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
    created_at TIMESTAMP(0) NOT NULL,
    updated_at TIMESTAMP(0) NOT NULL
);
CREATE INDEX appointments_by_patient ON appointments (patient_id);
-- The invariant that matters most: a slot has at most one booked appointment.
CREATE UNIQUE INDEX one_booking_per_slot ON appointments (slot_id) WHERE status = 'booked';
CREATE TABLE appointment_events (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appointment_id   TEXT NOT NULL REFERENCES appointments (id),
    at               TIMESTAMP(0) NOT NULL,
    action           TEXT NOT NULL CHECK (action IN ('booked', 'cancelled', 'rescheduled')),
    slot_id          TEXT NOT NULL,
    previous_slot_id TEXT
);
