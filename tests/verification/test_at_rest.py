"""What the stores hold: digests, never codes (rule 1)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.support.constants import ON_FILE, PEPPER
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpService, RedisOtpStore, SqliteOtpStore
from verification.codes import caller_reference, code_digest

CALLER = "+16505550142"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_sqlite_file_never_holds_the_code(sqlite_path: Path) -> None:
    sender = RecordingSmsSender()
    service = OtpService(
        SqliteOtpStore(sqlite_path), sender, StaticDirectory({ON_FILE}), pepper=PEPPER
    )
    await service.request_code(ON_FILE, session_id="call-1", caller_phone=CALLER)
    await service.drain()
    code = sender.last_code()
    await service.verify_code(ON_FILE, wrong(code), session_id="call-1", caller_phone=CALLER)

    with sqlite3.connect(sqlite_path) as db:
        dump = "\n".join(db.iterdump())
        (stored,) = db.execute("SELECT digest FROM otp_codes").fetchone()
    await service.aclose()
    raw = b"".join(p.read_bytes() for p in sqlite_path.parent.glob("otp.sqlite3*"))

    assert code not in dump
    assert code.encode() not in raw
    # the caller's own number is kept only as a keyed hash
    assert CALLER not in dump and CALLER[2:].encode() not in raw
    assert stored == code_digest(PEPPER, ON_FILE, "call-1", code)
    assert len(stored) == 32


async def test_redis_keyspace_never_holds_the_code(
    redis_url: str, key_prefix: str, redis_client: Any
) -> None:
    sender = RecordingSmsSender()
    store = RedisOtpStore.from_url(redis_url, key_prefix=key_prefix)
    service = OtpService(store, sender, StaticDirectory({ON_FILE}), pepper=PEPPER)
    await service.request_code(ON_FILE, session_id="call-1", caller_phone=CALLER)
    await service.drain()
    code = sender.last_code().encode()
    await service.verify_code(
        ON_FILE, wrong(code.decode()), session_id="call-1", caller_phone=CALLER
    )

    keys = sorted(await redis_client.keys(f"{key_prefix}:*"))
    mine = store.keys_for(ON_FILE, "call-1", caller_reference(PEPPER, CALLER))
    used = (mine.code, mine.caller_sends, mine.phone_sends, mine.caller_failures)
    replies = [k for k in keys if b":op:" in k]  # the request's and the guess's answers
    assert sorted(set(keys) - set(replies)) == sorted(k.encode() for k in (*used, mine[5]))
    assert len(replies) == 2
    for key in keys:
        dumped = await redis_client.dump(key)
        assert code not in dumped and CALLER[2:].encode() not in dumped + key
        assert await redis_client.pttl(key) > 0  # every key expires by itself
    for key in replies:
        assert 0 < await redis_client.pttl(key) <= 60_000  # remembered for a minute
    challenge = await redis_client.hgetall(mine.code)
    assert challenge[b"digest"] == code_digest(PEPPER, ON_FILE, "call-1", code.decode())
    await service.aclose()


def test_every_key_of_a_phone_shares_one_cluster_slot() -> None:
    from redis.crc import key_slot

    store = RedisOtpStore(client=_NoScripts(), key_prefix="otp")
    keys = store.keys_for(ON_FILE, "call-{1}", caller_reference(PEPPER, CALLER))
    assert all("{+14155550123}" in k for k in keys)
    assert len({key_slot(k.encode()) for k in keys}) == 1


class _NoScripts:
    def register_script(self, source: str) -> object:
        return object()
