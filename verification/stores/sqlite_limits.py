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


def _window(
    db: sqlite3.Connection,
    table: str,
    where: str,
    args: tuple[object, ...],
    since: float,
    limit: int,
) -> float | None:
    """None when `table` holds fewer than `limit` events matching `where` after `since`;
    else when the window has room again (the time of the event that must leave first)."""
    time = _TIME[table]
    rows = f"FROM {table} WHERE {where} AND {time} > ?"  # our own names only
    (count,) = db.execute(f"SELECT COUNT(*) {rows}", (*args, since)).fetchone()
    if count < limit:
        return None  # the common case: one indexed count, no rows read
    (oldest,) = db.execute(
        f"SELECT {time} {rows} ORDER BY {time} LIMIT 1 OFFSET ?",
        (*args, since, count - limit),
    ).fetchone()
    return float(oldest)


def _failures_full(
    db: sqlite3.Connection, phone: str, who: str, limit: int, now: float, policy: OtpPolicy
) -> float | None:
    """When `who`'s failure window on `phone` has room again, or None if it has room now."""
    window = policy.failure_window_seconds
    oldest = _window(
        db, "otp_failures", "phone = ? AND caller = ?", (phone, who), now - window, limit
    )
    return None if oldest is None else oldest + window


def lock_deadline(
    db: sqlite3.Connection, phone: str, caller: str, now: float, policy: OtpPolicy
) -> float | None:
    """When `caller`'s lockout from `phone` ends, or None when it is not locked out: another
    number by its own count or the ceiling; a withheld caller ID by the ceiling; the phone's
    own caller ID only when the ceiling and the owner's reserve are both full."""
    ceiling = _failures_full(db, phone, PHONE, policy.max_phone_failures, now, policy)
    who = caller_kind(caller)
    if who == CALLER_WITHHELD:
        return ceiling
    if who == CALLER_OWN:
        if ceiling is None or policy.owner_reserve_failures == 0:
            return ceiling
        reserve = _failures_full(db, phone, RESERVE, policy.owner_reserve_failures, now, policy)
        return None if reserve is None else min(ceiling, reserve)
    mine = _failures_full(db, phone, caller, policy.max_failures, now, policy)
    deadlines = [d for d in (ceiling, mine) if d is not None]
    return max(deadlines) if deadlines else None


def count_failure(
    db: sqlite3.Connection, phone: str, caller: str, now: float, policy: OtpPolicy
) -> bool:
    """Count one wrong guess; True when it filled the phone's failure ceiling."""
    purge_at = now + policy.failure_window_seconds
    insert = "INSERT INTO otp_failures (phone, caller, at, purge_at) VALUES (?,?,?,?)"
    who = caller_kind(caller)
    if who == "other":
        db.execute(insert, (phone, caller, now, purge_at))
    (ceiling,) = db.execute(
        "SELECT COUNT(*) FROM otp_failures WHERE phone = ? AND caller = ? AND at > ?",
        (phone, PHONE, now - policy.failure_window_seconds),
    ).fetchone()
    if who == CALLER_OWN and ceiling >= policy.max_phone_failures:
        db.execute(insert, (phone, RESERVE, now, purge_at))  # beyond the ceiling
        return False
    db.execute(insert, (phone, PHONE, now, purge_at))
    return bool(ceiling + 1 == policy.max_phone_failures)


def send_refusal(
    db: sqlite3.Connection,
    phone: str,
    session_id: str,
    caller: str,
    now: float,
    policy: OtpPolicy,
) -> tuple[IssueResult | None, str]:
    """Why a code may not be sent now (locked > cooldown > rate_limited), or None and the
    row the send is to be logged under (the caller's, or the owner's reserve)."""
    lock = lock_deadline(db, phone, caller, now, policy)
    if lock is not None:
        return IssueResult("locked", seconds_until(lock, now)), caller
    code = db.execute(
        "SELECT expires_at, attempts, issued_at FROM otp_codes WHERE phone = ? AND session_id = ?",
        (phone, session_id),
    ).fetchone()
    live = code is not None and code[0] > now and code[1] < policy.max_attempts
    window = policy.send_window_seconds
    since = now - window

    def refuse(
        status: Literal["cooldown", "rate_limited"], until: float
    ) -> tuple[IssueResult, str]:
        return IssueResult(status, seconds_until(until, now), own_code_live=live), caller

    if caller_kind(caller) == "other":
        # another caller's number: a cooldown and an allowance of its own
        (last,) = db.execute(
            "SELECT MAX(sent_at) FROM otp_send_log WHERE phone = ? AND caller = ? AND sent_at > ?",
            (phone, caller, since),
        ).fetchone()
        if last is not None and now - last < policy.resend_cooldown_seconds:
            return refuse("cooldown", last + policy.resend_cooldown_seconds)
        mine = _window(
            db, "otp_send_log", "phone = ? AND caller = ?", (phone, caller), since, policy.max_sends
        )
        if mine is not None:
            return refuse("rate_limited", mine + window)
    elif (
        code is not None and code[2] is not None and now < code[2] + policy.resend_cooldown_seconds
    ):
        # the phone's own or a withheld caller ID: the cooldown is this call's own
        return refuse("cooldown", code[2] + policy.resend_cooldown_seconds)

    ceiling = _window(
        db,
        "otp_send_log",
        "phone = ? AND caller != ?",
        (phone, RESERVE),
        since,
        policy.max_phone_sends,
    )
    if ceiling is None:
        return None, caller
    if caller_kind(caller) != CALLER_OWN or policy.owner_reserve_sends == 0:
        return refuse("rate_limited", ceiling + window)
    reserve = _window(
        db, "otp_send_log", "phone = ? AND caller = ?", (phone, RESERVE), since,
        policy.owner_reserve_sends,
    )  # fmt: skip
    if reserve is not None:
        return refuse("rate_limited", min(ceiling, reserve) + window)
    return None, RESERVE


def fills_send_ceiling(db: sqlite3.Connection, phone: str, now: float, policy: OtpPolicy) -> bool:
    """Whether the sends logged so far in the window have just reached the phone's ceiling."""
    (sends,) = db.execute(
        "SELECT COUNT(*) FROM otp_send_log WHERE phone = ? AND caller != ? AND sent_at > ?",
        (phone, RESERVE, now - policy.send_window_seconds),
    ).fetchone()
    return bool(sends == policy.max_phone_sends)


def counter_room(
    db: sqlite3.Connection, subject: str, limit: int, window_seconds: int, now: float
) -> float | None:
    """When `subject`'s window has room again, or None if it has room now."""
    if limit < 1:
        return now + window_seconds  # nothing may be counted
    oldest = _window(db, "counter_events", "subject = ?", (subject,), now - window_seconds, limit)
    return None if oldest is None else oldest + window_seconds
