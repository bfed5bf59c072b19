"""The embedded code store: one SQLite file shared by every call process on the machine.

LiveKit runs each call in its own process, so an in-memory dict would reset rate limits and
lockouts on every call. Each operation here is one `BEGIN IMMEDIATE` transaction (taking the
write lock up front), so concurrent processes are serialised by SQLite itself. The blocking
sqlite3 calls run on the store's own `SqliteThread`, never on the event loop. The rules
live in `sqlite_limits.py` (the same as the Redis scripts'), the tables in `sqlite_schema.py`.
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
from .base import CheckResult, IssueResult, StoreUnavailable, caller_kind, seconds_until
from .sqlite_limits import FailureWindows, counter_room, send_refusal
from .sqlite_schema import create_schema

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BUSY_TIMEOUT_SECONDS = 5.0


class SqliteOtpStore:
    """`OtpStore` on a SQLite file; safe across processes and threads."""

    def __init__(
        self, path: str | Path, *, busy_timeout_seconds: float = DEFAULT_BUSY_TIMEOUT_SECONDS
    ) -> None:
        self.path = Path(path)
        self._db = SqliteThread(
            path,
            setup=create_schema,
            busy_timeout=busy_timeout_seconds,
            thread_name="otp-sqlite",
        )

    # -- codes ------------------------------------------------------------------------------

    async def issue(
        self, phone: str, session_id: str, digest: bytes, policy: OtpPolicy, *, caller: str
    ) -> IssueResult:
        def op(db: sqlite3.Connection, now: float) -> IssueResult:
            self._purge(db, now)
            refusal, logged_as, tripped = send_refusal(db, phone, session_id, caller, now, policy)
            if refusal is not None:
                return refusal
            db.execute(
                "INSERT INTO otp_send_log (phone, caller, sent_at, purge_at) VALUES (?,?,?,?)",
                (phone, logged_as, now, now + policy.send_window_seconds),
            )
            db.execute(
                "INSERT OR REPLACE INTO otp_codes (phone, session_id, digest, expires_at,"
                " attempts, purge_at, issued_at) VALUES (?,?,?,?,0,?,?)",
                (
                    phone,
                    session_id,
                    digest,
                    now + policy.ttl_seconds,
                    now + 2 * policy.ttl_seconds,
                    now,
                ),
            )
            return IssueResult("issued", tripped=tripped)

        return await self._transaction(op)

    async def check(
        self, phone: str, session_id: str, digest: bytes, policy: OtpPolicy, *, caller: str
    ) -> CheckResult:
        def op(db: sqlite3.Connection, now: float) -> CheckResult:
            failures = FailureWindows(db, phone, caller, now, policy)
            lock = failures.lock_deadline()
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
                # phone's ceiling does not (else a patient's success would reopen it)
                if caller_kind(caller) == "other":
                    db.execute(
                        "DELETE FROM otp_failures WHERE phone = ? AND caller = ?", (phone, caller)
                    )
                return CheckResult("verified")
            attempts += 1
            tripped = failures.count_failure()
            lock = failures.lock_deadline()  # on the counts just grown: none read twice
            if lock is not None:
                db.execute("DELETE FROM otp_codes WHERE phone = ? AND session_id = ?", key)
                return CheckResult("locked", 0, seconds_until(lock, now), tripped=tripped)
            if attempts >= policy.max_attempts:
                db.execute("DELETE FROM otp_codes WHERE phone = ? AND session_id = ?", key)
                return CheckResult("wrong_code", 0, tripped=tripped)
            db.execute(
                "UPDATE otp_codes SET attempts = ? WHERE phone = ? AND session_id = ?",
                (attempts, phone, session_id),
            )
            return CheckResult("wrong_code", policy.max_attempts - attempts, tripped=tripped)

        return await self._transaction(op)

    # -- counters (knowledge answers, a host's quotas) -------------------------------------------

    async def take(self, counters: Sequence[tuple[str, int]], window_seconds: int) -> int | None:
        def op(db: sqlite3.Connection, now: float) -> int | None:
            for subject, limit in counters:
                room = counter_room(db, subject, limit, window_seconds, now)
                if room is not None:
                    return seconds_until(room, now)
            db.executemany(
                "INSERT INTO counter_events (subject, at, purge_at) VALUES (?,?,?)",
                [(subject, now, now + window_seconds) for subject, _ in counters],
            )
            return None

        return await self._transaction(op)

    async def give_back(self, subjects: Sequence[str]) -> None:
        def op(db: sqlite3.Connection, now: float) -> None:
            for subject in subjects:
                db.execute(
                    "DELETE FROM counter_events WHERE rowid = (SELECT rowid FROM counter_events"
                    " WHERE subject = ? ORDER BY at DESC LIMIT 1)",
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
        for table in ("otp_codes", "otp_send_log", "otp_failures", "counter_events"):
            db.execute(f"DELETE FROM {table} WHERE purge_at <= ?", (now,))  # noqa: S608
