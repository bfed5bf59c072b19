"""A store that cannot be reached is an outcome, never a crash and never a grant (rule 10)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from tests.support.constants import ON_FILE, PEPPER
from tests.support.ports import free_port
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpService, RedisOtpStore, SqliteOtpStore


async def test_unreachable_redis_is_unavailable_for_both_operations() -> None:
    sender = RecordingSmsSender()
    store = RedisOtpStore.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.5)
    service = OtpService(store, sender, StaticDirectory({ON_FILE}), pepper=PEPPER)

    requested = await service.request_code(ON_FILE, session_id="c")
    checked = await service.verify_code(ON_FILE, "123456", session_id="c")

    assert requested.status == "unavailable" and "staff" in requested.message
    assert checked.status == "unavailable" and not checked.verified
    assert sender.sent == []
    await service.aclose()


async def test_sqlite_held_by_another_writer_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "otp.sqlite3"
    store = SqliteOtpStore(path, busy_timeout_seconds=0.2)
    sender = RecordingSmsSender()
    service = OtpService(store, sender, StaticDirectory({ON_FILE}), pepper=PEPPER)
    assert (await service.verify_code(ON_FILE, "123456", session_id="c")).status == "no_code"

    locked, release = threading.Event(), threading.Event()

    def hold_write_lock() -> None:
        with sqlite3.connect(path, isolation_level=None) as other:
            other.execute("BEGIN IMMEDIATE")
            locked.set()
            release.wait(10)
            other.execute("ROLLBACK")

    holder = threading.Thread(target=hold_write_lock)
    holder.start()
    locked.wait(5)
    try:
        requested = await service.request_code(ON_FILE, session_id="c")
        checked = await service.verify_code(ON_FILE, "123456", session_id="c")
    finally:
        release.set()
        holder.join()

    assert requested.status == "unavailable" and checked.status == "unavailable"
    assert sender.sent == []
    # once the other writer lets go, the store works again without being reopened
    assert (await service.request_code(ON_FILE, session_id="c")).status == "sent"
    await service.aclose()
