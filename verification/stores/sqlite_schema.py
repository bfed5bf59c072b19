"""The SQLite store's tables, and the upgrade of a file an earlier version wrote.

Limits are sliding windows: one row per event (a send, a wrong guess, a counted answer) with
its time, counted over the last window's length. An earlier version kept fixed-window
counters (`otp_failure_counts`, `throttle_counts`: a count and the end of its window); a file
it wrote is upgraded in place, once, inside one transaction: each count becomes as many
events, leaving when the old window would have ended (their time is taken as that end less
the default window, the one length the file does not record). Nothing counted is lost, so an
upgrade gives no attacker a fresh allowance.
"""

from __future__ import annotations

import sqlite3
import time

from ..policy import KnowledgePolicy, OtpPolicy
from ..sqlite_thread import immediate

_SCHEMA = """
CREATE TABLE IF NOT EXISTS otp_codes (
    phone        TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    digest       BLOB NOT NULL,
    expires_at   REAL NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    purge_at     REAL NOT NULL,
    issued_at    REAL,
    PRIMARY KEY (phone, session_id)
);
CREATE INDEX IF NOT EXISTS otp_codes_purge ON otp_codes (purge_at);
-- caller: another number's keyed hash, 'own', 'withheld' (each counts toward the phone's
-- ceiling), or 'reserve' (the owner's reserve beyond it)
CREATE TABLE IF NOT EXISTS otp_send_log (
    phone        TEXT NOT NULL,
    caller       TEXT NOT NULL,
    sent_at      REAL NOT NULL,
    purge_at     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS otp_send_log_phone ON otp_send_log (phone, caller, sent_at);
CREATE INDEX IF NOT EXISTS otp_send_log_purge ON otp_send_log (purge_at);
-- caller: another number's keyed hash (its own count), '*' (the phone's ceiling) or
-- 'reserve' (the owner's reserve beyond it)
CREATE TABLE IF NOT EXISTS otp_failures (
    phone        TEXT NOT NULL,
    caller       TEXT NOT NULL,
    at           REAL NOT NULL,
    purge_at     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS otp_failures_phone ON otp_failures (phone, caller, at);
CREATE INDEX IF NOT EXISTS otp_failures_purge ON otp_failures (purge_at);
CREATE TABLE IF NOT EXISTS counter_events (
    subject      TEXT NOT NULL,
    at           REAL NOT NULL,
    purge_at     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS counter_events_subject ON counter_events (subject, at);
CREATE INDEX IF NOT EXISTS counter_events_purge ON counter_events (purge_at);
CREATE TABLE IF NOT EXISTS sms_breakers (
    provider       TEXT PRIMARY KEY,
    failures       INTEGER NOT NULL,
    open_until     REAL NOT NULL,
    probe_until    REAL NOT NULL
);
"""


def create_schema(db: sqlite3.Connection) -> None:
    """The tables, and the upgrade of an earlier version's file (once, atomically)."""
    db.executescript(_SCHEMA)
    with immediate(db):
        if "issued_at" not in _columns(db, "otp_codes"):
            db.execute("ALTER TABLE otp_codes ADD COLUMN issued_at REAL")
        if _columns(db, "otp_failure_counts"):
            _upgrade_failure_counts(db, time.time())
        if _columns(db, "throttle_counts"):
            _upgrade_throttle_counts(db, time.time())


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _upgrade_failure_counts(db: sqlite3.Connection, now: float) -> None:
    window = OtpPolicy().failure_window_seconds
    rows = db.execute(
        "SELECT phone, caller, failures, window_ends_at FROM otp_failure_counts"
        " WHERE window_ends_at > ? AND caller != 'anonymous'",  # withheld: the phone's count
        (now,),
    ).fetchall()
    db.executemany(
        "INSERT INTO otp_failures (phone, caller, at, purge_at) VALUES (?,?,?,?)",
        [(phone, caller, ends - window, ends) for phone, caller, n, ends in rows for _ in range(n)],
    )
    db.execute("DROP TABLE otp_failure_counts")


def _upgrade_throttle_counts(db: sqlite3.Connection, now: float) -> None:
    window = KnowledgePolicy().window_seconds
    rows = db.execute(
        "SELECT subject, failures, window_ends_at FROM throttle_counts WHERE window_ends_at > ?",
        (now,),
    ).fetchall()
    db.executemany(
        "INSERT INTO counter_events (subject, at, purge_at) VALUES (?,?,?)",
        [(subject, ends - window, ends) for subject, n, ends in rows for _ in range(n)],
    )
    db.execute("DROP TABLE throttle_counts")
