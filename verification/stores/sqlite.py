"""The embedded code store: one SQLite file shared by every call process on the machine.

LiveKit runs each call in its own process, so an in-memory dict would reset rate limits and
lockouts on every call. Each operation here is one `BEGIN IMMEDIATE` transaction (taking the
write lock up front), so concurrent processes are serialised by SQLite itself. The blocking
sqlite3 calls run on the store's own `SqliteThread`, never on the event loop.
"""

from __future__ import annotations

import hmac
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from ..policy import OtpPolicy
from ..sqlite_thread import SqliteThread
from .base import WHOLE_PHONE, CheckResult, IssueResult, StoreUnavailable, seconds_until

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BUSY_TIMEOUT_SECONDS = 5.0

# Table names differ from the first schema (one code per phone), whose rows mean something
# else: an old development file simply gains the new tables.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS otp_codes (
    phone        TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    digest       BLOB NOT NULL,
    expires_at   REAL NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    purge_at     REAL NOT NULL,
    PRIMARY KEY (phone, session_id)
);
CREATE INDEX IF NOT EXISTS otp_codes_purge ON otp_codes (purge_at);
CREATE TABLE IF NOT EXISTS otp_send_log (
    phone        TEXT NOT NULL,
    caller       TEXT NOT NULL,
    sent_at      REAL NOT NULL,
    purge_at     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS otp_send_log_phone ON otp_send_log (phone, caller, sent_at);
CREATE INDEX IF NOT EXISTS otp_send_log_purge ON otp_send_log (purge_at);
CREATE TABLE IF NOT EXISTS otp_failure_counts (
    phone          TEXT NOT NULL,
    caller         TEXT NOT NULL,
    failures       INTEGER NOT NULL,
    window_ends_at REAL NOT NULL,
    PRIMARY KEY (phone, caller)
);
CREATE TABLE IF NOT EXISTS throttle_counts (
    subject        TEXT PRIMARY KEY,
    failures       INTEGER NOT NULL,
    window_ends_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sms_breakers (
    provider       TEXT PRIMARY KEY,
    failures       INTEGER NOT NULL,
    open_until     REAL NOT NULL,
    probe_until    REAL NOT NULL
);
"""


class SqliteOtpStore:
    """`OtpStore` on a SQLite file; safe across processes and threads."""

    def __init__(
        self, path: str | Path, *, busy_timeout_seconds: float = DEFAULT_BUSY_TIMEOUT_SECONDS
    ) -> None:
        self.path = Path(path)
        self._db = SqliteThread(
            path,
            setup=_create_schema,
            busy_timeout=busy_timeout_seconds,
            thread_name="otp-sqlite",
        )

    # -- codes ------------------------------------------------------------------------------

    async def issue(
        self, phone: str, session_id: str, digest: bytes, policy: OtpPolicy, *, caller: str
    ) -> IssueResult:
        def op(db: sqlite3.Connection, now: float) -> IssueResult:
            self._purge(db, now)
            refusal = _send_refusal(db, phone, session_id, caller, now, policy)
            if refusal is not None:
                return refusal
            db.execute(
                "INSERT INTO otp_send_log (phone, caller, sent_at, purge_at) VALUES (?,?,?,?)",
                (phone, caller, now, now + policy.send_window_seconds),
            )
            db.execute(
                "INSERT OR REPLACE INTO otp_codes"
                " (phone, session_id, digest, expires_at, attempts, purge_at)"
                " VALUES (?,?,?,?,0,?)",
                (phone, session_id, digest, now + policy.ttl_seconds, now + 2 * policy.ttl_seconds),
            )
            return IssueResult("issued")

        return await self._transaction(op)

    async def check(
        self, phone: str, session_id: str, digest: bytes, policy: OtpPolicy, *, caller: str
    ) -> CheckResult:
        def op(db: sqlite3.Connection, now: float) -> CheckResult:
            lock = _lock_deadline(db, phone, caller, now, policy)
            if lock is not None:
                return CheckResult("locked", 0, seconds_until(lock, now))
            key = (phone, session_id)
            row = db.execute(
                "SELECT digest, expires_at, attempts FROM otp_codes"
                " WHERE phone = ? AND session_id = ?",
                key,
            ).fetchone()
            if row is None:
                return CheckResult("no_code")
            stored, expires_at, attempts = row
            if expires_at <= now:
                db.execute("DELETE FROM otp_codes WHERE phone = ? AND session_id = ?", key)
                return CheckResult("expired")
            if hmac.compare_digest(stored, digest):
                db.execute("DELETE FROM otp_codes WHERE phone = ? AND session_id = ?", key)
                # this caller proved it holds the phone: its own count starts again; the
                # whole-phone ceiling does not (else a patient's success would reopen it)
                db.execute(
                    "DELETE FROM otp_failure_counts WHERE phone = ? AND caller = ?",
                    (phone, caller),
                )
                return CheckResult("verified")
            attempts += 1
            mine, my_end = _count_failure(db, phone, caller, now, policy)
            everyone, phone_end = _count_failure(db, phone, WHOLE_PHONE, now, policy)
            if mine >= policy.max_failures or everyone >= policy.max_phone_failures:
                db.execute("DELETE FROM otp_codes WHERE phone = ? AND session_id = ?", key)
                ends = max(
                    my_end if mine >= policy.max_failures else 0.0,
                    phone_end if everyone >= policy.max_phone_failures else 0.0,
                )
                return CheckResult("locked", 0, seconds_until(ends, now))
            if attempts >= policy.max_attempts:
                db.execute("DELETE FROM otp_codes WHERE phone = ? AND session_id = ?", key)
                return CheckResult("wrong_code", 0)
            db.execute(
                "UPDATE otp_codes SET attempts = ? WHERE phone = ? AND session_id = ?",
                (attempts, phone, session_id),
            )
            return CheckResult("wrong_code", policy.max_attempts - attempts)

        return await self._transaction(op)

    # -- knowledge-based throttle -------------------------------------------------------------

    async def take(self, counters: Sequence[tuple[str, int]], window_seconds: int) -> int | None:
        def op(db: sqlite3.Connection, now: float) -> int | None:
            rows = []
            for subject, limit in counters:
                row = db.execute(
                    "SELECT failures, window_ends_at FROM throttle_counts"
                    " WHERE subject = ? AND window_ends_at > ?",
                    (subject, now),
                ).fetchone()
                if row is not None and row[0] >= limit:
                    return seconds_until(float(row[1]), now)
                rows.append((subject, row))
            for subject, row in rows:
                failures, ends = (row[0] + 1, row[1]) if row else (1, now + window_seconds)
                db.execute(
                    "INSERT OR REPLACE INTO throttle_counts (subject, failures, window_ends_at)"
                    " VALUES (?,?,?)",
                    (subject, failures, ends),
                )
            return None

        return await self._transaction(op)

    async def give_back(self, subjects: Sequence[str]) -> None:
        def op(db: sqlite3.Connection, now: float) -> None:
            for subject in subjects:
                db.execute(
                    "UPDATE throttle_counts SET failures = failures - 1"
                    " WHERE subject = ? AND failures > 0",
                    (subject,),
                )

        await self._transaction(op)

    # -- SMS circuit breakers -----------------------------------------------------------------

    async def breaker_allow(self, provider: str, probe_seconds: float) -> bool:
        def op(db: sqlite3.Connection, now: float) -> bool:
            row = db.execute(
                "SELECT open_until, probe_until FROM sms_breakers WHERE provider = ?",
                (provider,),
            ).fetchone()
            if row is None or row[0] == 0:
                return True  # closed
            open_until, probe_until = row
            if now < open_until or now < probe_until:
                return False  # open, or another send holds the probe
            db.execute(
                "UPDATE sms_breakers SET probe_until = ? WHERE provider = ?",
                (now + probe_seconds, provider),
            )
            return True

        return await self._transaction(op)

    async def breaker_record(
        self, provider: str, *, failed: bool, threshold: int, cooloff_seconds: float
    ) -> None:
        def op(db: sqlite3.Connection, now: float) -> None:
            if not failed:
                db.execute("DELETE FROM sms_breakers WHERE provider = ?", (provider,))
                return
            row = db.execute(
                "SELECT failures, probe_until FROM sms_breakers WHERE provider = ?", (provider,)
            ).fetchone()
            failures = (row[0] if row else 0) + 1
            probing = row is not None and row[1] > 0
            open_until = now + cooloff_seconds if probing or failures >= threshold else 0.0
            db.execute(
                "INSERT OR REPLACE INTO sms_breakers (provider, failures, open_until, probe_until)"
                " VALUES (?,?,?,0)",
                (provider, failures, open_until),
            )

        await self._transaction(op)

    async def breaker_release(self, provider: str) -> None:
        def op(db: sqlite3.Connection, now: float) -> None:
            db.execute("UPDATE sms_breakers SET probe_until = 0 WHERE provider = ?", (provider,))

        await self._transaction(op)

    async def aclose(self) -> None:
        await self._db.aclose()

    # -- plumbing ---------------------------------------------------------------------------

    async def _transaction(self, op: Callable[[sqlite3.Connection, float], T]) -> T:
        """Run `op` inside one BEGIN IMMEDIATE transaction on the store's own thread."""
        try:
            return await self._db.transaction(lambda db: op(db, time.time()))
        except sqlite3.Error as exc:
            log.error(
                "otp sqlite store failed",
                extra={"store": "sqlite", "error": type(exc).__name__, "detail": str(exc)},
            )
            raise StoreUnavailable(f"sqlite store failed: {type(exc).__name__}") from exc

    @staticmethod
    def _purge(db: sqlite3.Connection, now: float) -> None:
        """Drop rows past their useful life, so the file holds only what limits still need."""
        db.execute("DELETE FROM otp_codes WHERE purge_at <= ?", (now,))
        db.execute("DELETE FROM otp_send_log WHERE purge_at <= ?", (now,))
        db.execute("DELETE FROM otp_failure_counts WHERE window_ends_at <= ?", (now,))
        db.execute("DELETE FROM throttle_counts WHERE window_ends_at <= ?", (now,))


def _create_schema(db: sqlite3.Connection) -> None:
    db.executescript(_SCHEMA)


def _lock_deadline(
    db: sqlite3.Connection, phone: str, caller: str, now: float, policy: OtpPolicy
) -> float | None:
    """When the lockout of `caller` on `phone` ends (its own, or the whole phone's), or None."""
    deadline: float | None = None
    for who, limit in ((caller, policy.max_failures), (WHOLE_PHONE, policy.max_phone_failures)):
        row = db.execute(
            "SELECT failures, window_ends_at FROM otp_failure_counts"
            " WHERE phone = ? AND caller = ? AND window_ends_at > ?",
            (phone, who, now),
        ).fetchone()
        if row is not None and row[0] >= limit:
            deadline = max(deadline or 0.0, float(row[1]))
    return deadline


def _send_refusal(
    db: sqlite3.Connection,
    phone: str,
    session_id: str,
    caller: str,
    now: float,
    policy: OtpPolicy,
) -> IssueResult | None:
    """Why a code may not be sent now (locked > cooldown > rate_limited), or None."""
    lock = _lock_deadline(db, phone, caller, now, policy)
    if lock is not None:
        return IssueResult("locked", seconds_until(lock, now))
    window_start = now - policy.send_window_seconds
    count, first, last = db.execute(
        "SELECT COUNT(*), MIN(sent_at), MAX(sent_at) FROM otp_send_log"
        " WHERE phone = ? AND caller = ? AND sent_at > ?",
        (phone, caller, window_start),
    ).fetchone()
    refusal: IssueResult | None = None
    if last is not None and now - last < policy.resend_cooldown_seconds:
        wait = seconds_until(last + policy.resend_cooldown_seconds, now)
        refusal = IssueResult("cooldown", wait)
    elif count >= policy.max_sends:
        refusal = IssueResult(
            "rate_limited", seconds_until(first + policy.send_window_seconds, now)
        )
    else:
        phone_count, phone_first = db.execute(
            "SELECT COUNT(*), MIN(sent_at) FROM otp_send_log WHERE phone = ? AND sent_at > ?",
            (phone, window_start),
        ).fetchone()
        if phone_count >= policy.max_phone_sends:
            wait = seconds_until(phone_first + policy.send_window_seconds, now)
            refusal = IssueResult("rate_limited", wait)
    if refusal is None:
        return None
    live = db.execute(
        "SELECT 1 FROM otp_codes WHERE phone = ? AND session_id = ? AND expires_at > ?"
        " AND attempts < ?",
        (phone, session_id, now, policy.max_attempts),
    ).fetchone()
    return IssueResult(refusal.status, refusal.retry_after_seconds, own_code_live=live is not None)


def _count_failure(
    db: sqlite3.Connection, phone: str, caller: str, now: float, policy: OtpPolicy
) -> tuple[int, float]:
    """Count one wrong guess in `caller`'s window on `phone`; return (failures, window end)."""
    row = db.execute(
        "SELECT failures, window_ends_at FROM otp_failure_counts"
        " WHERE phone = ? AND caller = ? AND window_ends_at > ?",
        (phone, caller, now),
    ).fetchone()
    failures, window_ends_at = (
        (row[0] + 1, float(row[1])) if row else (1, now + policy.failure_window_seconds)
    )
    db.execute(
        "INSERT OR REPLACE INTO otp_failure_counts (phone, caller, failures, window_ends_at)"
        " VALUES (?,?,?,?)",
        (phone, caller, failures, window_ends_at),
    )
    return failures, window_ends_at
