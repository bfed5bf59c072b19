"""Counters an earlier version kept (fixed windows) carry over into the sliding windows: an
upgrade gives no attacker a fresh allowance. SQLite file and real Redis."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from tests.support.constants import ON_FILE, PEPPER
from verification import IdentityThrottle, KnowledgePolicy, OtpPolicy, RedisOtpStore, SqliteOtpStore
from verification.codes import caller_reference

STRANGER = "+12125550100"
POLICY = OtpPolicy()
HOUR = 3600


def earlier_sqlite_file(path: Path, subject: str) -> None:
    """What the previous version left: a phone at its ceiling, a stranger at its own limit,
    and a knowledge counter at its limit, each with an hour of its window left."""
    ends = time.time() + HOUR
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE otp_failure_counts (phone TEXT NOT NULL, caller TEXT NOT NULL,"
            " failures INTEGER NOT NULL, window_ends_at REAL NOT NULL,"
            " PRIMARY KEY (phone, caller));"
            "CREATE TABLE throttle_counts (subject TEXT PRIMARY KEY, failures INTEGER NOT NULL,"
            " window_ends_at REAL NOT NULL);"
        )
        db.executemany(
            "INSERT INTO otp_failure_counts VALUES (?,?,?,?)",
            [
                ("+14155550188", "*", 97, ends),
                (ON_FILE, caller_reference(PEPPER, STRANGER), 10, ends),
            ],
        )
        db.execute("INSERT INTO throttle_counts VALUES (?,?,?)", (subject, 3, ends))


async def test_an_earlier_sqlite_file_keeps_its_counts(tmp_path: Path) -> None:
    path = tmp_path / "otp.sqlite3"
    subject = IdentityThrottle(SqliteOtpStore(path), pepper=PEPPER).counters.subject("record", "P1")
    earlier_sqlite_file(path, subject)
    store = SqliteOtpStore(path)
    try:
        stranger = caller_reference(PEPPER, STRANGER)
        full = await store.check("+14155550188", "c", b"d" * 32, POLICY, caller="withheld")
        assert full.status == "locked" and HOUR - 5 <= (full.retry_after_seconds or 0) <= HOUR
        mine = await store.check(ON_FILE, "c", b"d" * 32, POLICY, caller=stranger)
        assert mine.status == "locked"
        assert (await store.check(ON_FILE, "c", b"d" * 32, POLICY, caller="withheld")).status == (
            "no_code"  # the stranger's own count, not the phone's
        )
        throttle = IdentityThrottle(store, KnowledgePolicy(), pepper=PEPPER)
        refused = await throttle.attempt(record_id="P1", caller_phone=None)
        assert not refused.allowed and HOUR - 5 <= (refused.retry_after_seconds or 0) <= HOUR
    finally:
        await store.aclose()
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert not {"otp_failure_counts", "throttle_counts"} & tables


async def test_earlier_redis_counters_keep_their_counts(
    redis_url: str, key_prefix: str, redis_client: Any
) -> None:
    store = RedisOtpStore.from_url(redis_url, key_prefix=key_prefix)
    throttle = IdentityThrottle(store, KnowledgePolicy(), pepper=PEPPER)
    keys = store.keys_for(ON_FILE)
    subject = store.subject_key(throttle.counters.subject("record", "P1"))
    await redis_client.set(keys.phone_failures, 97, px=HOUR * 1000)
    await redis_client.set(subject, 3, px=HOUR * 1000)
    try:
        full = await store.check(ON_FILE, "c", b"d" * 32, POLICY, caller="withheld")
        assert full.status == "locked" and HOUR - 5 <= (full.retry_after_seconds or 0) <= HOUR
        assert await redis_client.zcard(keys.phone_failures) == 97
        refused = await throttle.attempt(record_id="P1", caller_phone=None)
        assert not refused.allowed and HOUR - 5 <= (refused.retry_after_seconds or 0) <= HOUR
        await throttle.succeeded(record_id="P1", caller_phone=None)  # one given back
        assert (await throttle.attempt(record_id="P1", caller_phone=None)).allowed
        assert not (await throttle.attempt(record_id="P1", caller_phone=None)).allowed
    finally:
        await store.aclose()
