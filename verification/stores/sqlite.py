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
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..policy import OtpPolicy
from ..sqlite_thread import SqliteThread
from .base import CheckResult, IssueResult, StoreUnavailable, seconds_until

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BUSY_TIMEOUT_SECONDS = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS otp_challenges (
    phone        TEXT PRIMARY KEY,
    challenge_id TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    digest       BLOB NOT NULL,
    expires_at   REAL NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    purge_at     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS otp_challenges_purge ON otp_challenges (purge_at);
CREATE TABLE IF NOT EXISTS otp_sends (
    challenge_id TEXT PRIMARY KEY,
    phone        TEXT NOT NULL,
    sent_at      REAL NOT NULL,
    purge_at     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS otp_sends_phone ON otp_sends (phone, sent_at);
CREATE INDEX IF NOT EXISTS otp_sends_purge ON otp_sends (purge_at);
CREATE TABLE IF NOT EXISTS otp_failures (
    phone          TEXT PRIMARY KEY,
    failures       INTEGER NOT NULL,
    window_ends_at REAL NOT NULL
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

    async def issue(
        self, phone: str, session_id: str, digest: bytes, challenge_id: str, policy: OtpPolicy
    ) -> IssueResult:
        def op(db: sqlite3.Connection, now: float) -> IssueResult:
            self._purge(db, now)
            refusal = _send_refusal(db, phone, now, policy)
            if refusal is not None:
                return refusal
            db.execute(
                "INSERT INTO otp_sends (challenge_id, phone, sent_at, purge_at) VALUES (?,?,?,?)",
                (challenge_id, phone, now, now + policy.send_window_seconds),
            )
            db.execute(
                "INSERT OR REPLACE INTO otp_challenges"
                " (phone, challenge_id, session_id, digest, expires_at, attempts, purge_at)"
                " VALUES (?,?,?,?,?,0,?)",
                (
                    phone,
                    challenge_id,
                    session_id,
                    digest,
                    now + policy.ttl_seconds,
                    now + 2 * policy.ttl_seconds,
                ),
            )
            return IssueResult("issued")

        return await self._transaction(op)

    async def withdraw(self, phone: str, challenge_id: str) -> None:
        def op(db: sqlite3.Connection, now: float) -> None:
            db.execute("DELETE FROM otp_sends WHERE challenge_id = ?", (challenge_id,))
            db.execute(
                "DELETE FROM otp_challenges WHERE phone = ? AND challenge_id = ?",
                (phone, challenge_id),
            )

        await self._transaction(op)

    async def check(
        self, phone: str, session_id: str, digest: bytes, policy: OtpPolicy
    ) -> CheckResult:
        def op(db: sqlite3.Connection, now: float) -> CheckResult:
            lock = _lock_deadline(db, phone, now, policy)
            if lock is not None:
                return CheckResult("locked", retry_after_seconds=seconds_until(lock, now))
            row = db.execute(
                "SELECT session_id, digest, expires_at, attempts FROM otp_challenges"
                " WHERE phone = ?",
                (phone,),
            ).fetchone()
            if row is None or row[0] != session_id:
                return CheckResult("no_code")
            _, stored, expires_at, attempts = row
            if expires_at <= now:
                db.execute("DELETE FROM otp_challenges WHERE phone = ?", (phone,))
                return CheckResult("expired")
            if hmac.compare_digest(stored, digest):
                db.execute("DELETE FROM otp_challenges WHERE phone = ?", (phone,))
                db.execute("DELETE FROM otp_failures WHERE phone = ?", (phone,))
                return CheckResult("verified")
            attempts += 1
            failures, window_ends_at = _record_failure(db, phone, now, policy)
            if failures >= policy.max_failures:
                db.execute("DELETE FROM otp_challenges WHERE phone = ?", (phone,))
                return CheckResult(
                    "locked",
                    attempts_left=0,
                    retry_after_seconds=seconds_until(window_ends_at, now),
                )
            if attempts >= policy.max_attempts:
                db.execute("DELETE FROM otp_challenges WHERE phone = ?", (phone,))
                return CheckResult("wrong_code", attempts_left=0)
            db.execute("UPDATE otp_challenges SET attempts = ? WHERE phone = ?", (attempts, phone))
            return CheckResult("wrong_code", attempts_left=policy.max_attempts - attempts)

        return await self._transaction(op)

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
        db.execute("DELETE FROM otp_challenges WHERE purge_at <= ?", (now,))
        db.execute("DELETE FROM otp_sends WHERE purge_at <= ?", (now,))
        db.execute("DELETE FROM otp_failures WHERE window_ends_at <= ?", (now,))


def _create_schema(db: sqlite3.Connection) -> None:
    db.executescript(_SCHEMA)


def _lock_deadline(
    db: sqlite3.Connection, phone: str, now: float, policy: OtpPolicy
) -> float | None:
    """When the failure lockout on `phone` ends, or None if it is not locked."""
    row = db.execute(
        "SELECT failures, window_ends_at FROM otp_failures WHERE phone = ? AND window_ends_at > ?",
        (phone, now),
    ).fetchone()
    if row is not None and row[0] >= policy.max_failures:
        return float(row[1])
    return None


def _send_refusal(
    db: sqlite3.Connection, phone: str, now: float, policy: OtpPolicy
) -> IssueResult | None:
    """Why a code may not be sent now (locked > cooldown > rate_limited), or None."""
    lock = _lock_deadline(db, phone, now, policy)
    if lock is not None:
        return IssueResult("locked", seconds_until(lock, now))
    window_start = now - policy.send_window_seconds
    count, first, last = db.execute(
        "SELECT COUNT(*), MIN(sent_at), MAX(sent_at) FROM otp_sends"
        " WHERE phone = ? AND sent_at > ?",
        (phone, window_start),
    ).fetchone()
    if last is not None and now - last < policy.resend_cooldown_seconds:
        return IssueResult("cooldown", seconds_until(last + policy.resend_cooldown_seconds, now))
    if count >= policy.max_sends:
        return IssueResult("rate_limited", seconds_until(first + policy.send_window_seconds, now))
    return None


def _record_failure(
    db: sqlite3.Connection, phone: str, now: float, policy: OtpPolicy
) -> tuple[int, float]:
    """Count one wrong guess against `phone`'s failure window; return (failures, window end)."""
    row = db.execute(
        "SELECT failures, window_ends_at FROM otp_failures WHERE phone = ? AND window_ends_at > ?",
        (phone, now),
    ).fetchone()
    failures, window_ends_at = (
        (row[0] + 1, float(row[1])) if row else (1, now + policy.failure_window_seconds)
    )
    db.execute(
        "INSERT OR REPLACE INTO otp_failures (phone, failures, window_ends_at) VALUES (?,?,?)",
        (phone, failures, window_ends_at),
    )
    return failures, window_ends_at
