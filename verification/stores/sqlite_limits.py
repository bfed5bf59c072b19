"""The limits of `SqliteOtpStore`, one transaction's worth of SQL each: the same rules, step
for step, as the Redis scripts (`lua/prelude.lua`, `issue.lua`, `check.lua`).

Every window slides: a limit is reached when the last window's length holds that many
event rows; it has room again when the oldest of the rows over the limit leaves.
"""

from __future__ import annotations

import sqlite3
from typing import Literal

from ..policy import OtpPolicy
from .base import CALLER_OWN, CALLER_WITHHELD, IssueResult, caller_kind, seconds_until

PHONE = "*"  # the failure rows of a phone's ceiling (others: a caller's hash, or RESERVE)
RESERVE = "reserve"  # the owner's reserve beyond the ceilings

_TIME = {"otp_failures": "at", "otp_send_log": "sent_at", "counter_events": "at"}
_OF_CALLER = "phone = ? AND caller = ?"  # a phone's rows of one caller (or PHONE, or RESERVE)


def _rows(table: str, where: str) -> str:
    """The events of `table` matching `where` after a time (the last `?`)."""
    return f"FROM {table} WHERE {where} AND {_TIME[table]} > ?"  # our own names only


def _count(
    db: sqlite3.Connection, table: str, where: str, args: tuple[object, ...], since: float
) -> int:
    """How many events of `table` match `where` after `since` (one indexed count)."""
    (count,) = db.execute(f"SELECT COUNT(*) {_rows(table, where)}", (*args, since)).fetchone()
    return int(count)


def _first_to_leave(
    db: sqlite3.Connection,
    table: str,
    where: str,
    args: tuple[object, ...],
    since: float,
    count: int,
    limit: int,
) -> float | None:
    """None when the `count` events of `table` matching `where` after `since` are fewer than
    `limit`; else when the window has room again (the time of the event that must leave
    first)."""
    if count < limit:
        return None  # the common case: no rows read
    time = _TIME[table]
    (oldest,) = db.execute(
        f"SELECT {time} {_rows(table, where)} ORDER BY {time} LIMIT 1 OFFSET ?",
        (*args, since, count - limit),
    ).fetchone()
    return float(oldest)


def _window(
    db: sqlite3.Connection,
    table: str,
    where: str,
    args: tuple[object, ...],
    since: float,
    limit: int,
) -> float | None:
    """`_first_to_leave` of a window not yet counted."""
    count = _count(db, table, where, args, since)
    return _first_to_leave(db, table, where, args, since, count, limit)


class FailureWindows:
    """A caller's failure windows on one phone inside one transaction: each counted when
    first needed, then kept up to date by `count_failure` (as check.lua keeps its counts
    `n`), so a wrong guess reads no count twice."""

    def __init__(
        self, db: sqlite3.Connection, phone: str, caller: str, now: float, policy: OtpPolicy
    ) -> None:
        self._db = db
        self._phone = phone
        self._caller = caller
        self._kind = caller_kind(caller)
        self._now = now
        self._policy = policy
        self._since = now - policy.failure_window_seconds
        self._counts: dict[str, int] = {}  # PHONE, the caller's hash or RESERVE: its count

    def _count(self, who: str) -> int:
        if who not in self._counts:
            args = (self._phone, who)
            self._counts[who] = _count(self._db, "otp_failures", _OF_CALLER, args, self._since)
        return self._counts[who]

    def _full_until(self, who: str, limit: int) -> float | None:
        """When `who`'s window has room again, or None if it has room now."""
        oldest = _first_to_leave(
            self._db,
            "otp_failures",
            _OF_CALLER,
            (self._phone, who),
            self._since,
            self._count(who),
            limit,
        )
        return None if oldest is None else oldest + self._policy.failure_window_seconds

    def lock_deadline(self) -> float | None:
        """When the caller's lockout from the phone ends, or None when it is not locked out:
        another number by its own count or the ceiling; a withheld caller ID by the ceiling;
        the phone's own caller ID only when the ceiling and the owner's reserve are both
        full."""
        policy = self._policy
        ceiling = self._full_until(PHONE, policy.max_phone_failures)
        if self._kind == CALLER_WITHHELD:
            return ceiling
        if self._kind == CALLER_OWN:
            if ceiling is None or policy.owner_reserve_failures == 0:
                return ceiling
            reserve = self._full_until(RESERVE, policy.owner_reserve_failures)
            return None if reserve is None else min(ceiling, reserve)
        mine = self._full_until(self._caller, policy.max_failures)
        deadlines = [d for d in (ceiling, mine) if d is not None]
        return max(deadlines) if deadlines else None

    def count_failure(self) -> bool:
        """Count one wrong guess; True when it filled the phone's failure ceiling."""
        if self._kind == "other":
            self._insert(self._caller)
        if self._kind == CALLER_OWN and self._count(PHONE) >= self._policy.max_phone_failures:
            self._insert(RESERVE)  # beyond the ceiling
            return False
        self._insert(PHONE)
        return self._counts[PHONE] == self._policy.max_phone_failures

    def _insert(self, who: str) -> None:
        """One failure row for `who`, and its window's count one higher (if read yet: else
        the count read later holds the row)."""
        self._db.execute(
            "INSERT INTO otp_failures (phone, caller, at, purge_at) VALUES (?,?,?,?)",
            (self._phone, who, self._now, self._now + self._policy.failure_window_seconds),
        )
        if who in self._counts:
            self._counts[who] += 1


def send_refusal(
    db: sqlite3.Connection,
    phone: str,
    session_id: str,
    caller: str,
    now: float,
    policy: OtpPolicy,
) -> tuple[IssueResult | None, str, bool]:
    """Why a code may not be sent now (locked > cooldown > rate_limited); or None, the row
    the send is to be logged under (the caller's, or the owner's reserve), and whether the
    send fills the phone's send ceiling (as issue.lua's `tripped`)."""
    lock = FailureWindows(db, phone, caller, now, policy).lock_deadline()
    if lock is not None:
        return IssueResult("locked", seconds_until(lock, now)), caller, False
    code = db.execute(
        "SELECT expires_at, attempts, issued_at FROM otp_codes WHERE phone = ? AND session_id = ?",
        (phone, session_id),
    ).fetchone()
    live = code is not None and code[0] > now and code[1] < policy.max_attempts
    window = policy.send_window_seconds
    since = now - window
    who = caller_kind(caller)

    def refuse(
        status: Literal["cooldown", "rate_limited"], until: float
    ) -> tuple[IssueResult, str, bool]:
        return IssueResult(status, seconds_until(until, now), own_code_live=live), caller, False

    if who == "other":
        # another caller's number: a cooldown and an allowance of its own
        sent, last = db.execute(
            f"SELECT COUNT(*), MAX(sent_at) {_rows('otp_send_log', _OF_CALLER)}",
            (phone, caller, since),
        ).fetchone()
        if last is not None and now - last < policy.resend_cooldown_seconds:
            return refuse("cooldown", last + policy.resend_cooldown_seconds)
        full = _first_to_leave(
            db, "otp_send_log", _OF_CALLER, (phone, caller), since, sent, policy.max_sends
        )
        if full is not None:
            return refuse("rate_limited", full + window)
    elif (
        code is not None and code[2] is not None and now < code[2] + policy.resend_cooldown_seconds
    ):
        # the phone's own or a withheld caller ID: the cooldown is this call's own
        return refuse("cooldown", code[2] + policy.resend_cooldown_seconds)

    not_reserve = "phone = ? AND caller != ?"
    phone_sent = _count(db, "otp_send_log", not_reserve, (phone, RESERVE), since)
    ceiling = _first_to_leave(
        db, "otp_send_log", not_reserve, (phone, RESERVE), since, phone_sent, policy.max_phone_sends
    )
    if ceiling is None:
        return None, caller, phone_sent + 1 == policy.max_phone_sends
    if who != CALLER_OWN or policy.owner_reserve_sends == 0:
        return refuse("rate_limited", ceiling + window)
    reserve = _window(
        db, "otp_send_log", _OF_CALLER, (phone, RESERVE), since, policy.owner_reserve_sends
    )
    if reserve is not None:
        return refuse("rate_limited", min(ceiling, reserve) + window)
    return None, RESERVE, False


def counter_room(
    db: sqlite3.Connection, subject: str, limit: int, window_seconds: int, now: float
) -> float | None:
    """When `subject`'s window has room again, or None if it has room now."""
    if limit < 1:
        return now + window_seconds  # nothing may be counted
    oldest = _window(db, "counter_events", "subject = ?", (subject,), now - window_seconds, limit)
    return None if oldest is None else oldest + window_seconds
