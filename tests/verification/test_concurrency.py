"""Races across processes: N parallel operations are counted as N, never fewer (rule 3).

Each worker is a separate OS process with its own store connection, as LiveKit's per-call
processes are; inside each process several asyncio tasks fire at once too. All workers wait
for one shared start instant so the operations really overlap.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support.constants import ON_FILE, PEPPER
from tests.support.sms import RecordingSmsSender, StaticDirectory
from verification import OtpPolicy, OtpService, OtpStore, RedisOtpStore, SqliteOtpStore

PROCESSES = 5
POLICY = OtpPolicy(max_attempts=3, max_failures=1000, max_sends=100, max_phone_sends=4)


def _open_store(backend: str, where: str) -> OtpStore:
    if backend == "sqlite":
        return SqliteOtpStore(where)
    url, prefix = where.split("|")
    return RedisOtpStore.from_url(url, key_prefix=prefix)


def _service(backend: str, where: str, sender: Any) -> OtpService:
    return OtpService(
        _open_store(backend, where), sender, StaticDirectory({ON_FILE}), POLICY, pepper=PEPPER
    )


class _FileSender(RecordingSmsSender):
    """Appends one line per message to a file, so messages are countable across processes."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    async def send(self, to: str, body: str) -> Any:
        receipt = await super().send(to, body)
        with open(self.path, "a") as f:
            f.write(f"{to}\n")
        return receipt


def _worker(
    backend: str, where: str, op: str, arg: str, tasks: int, start_at: float, index: int = 0
) -> list[str]:
    async def main() -> list[str]:
        service = _service(
            backend, where, _FileSender(arg) if op.startswith("request") else RecordingSmsSender()
        )
        await asyncio.sleep(max(0.0, start_at - time.time()))
        results: list[str]
        if op == "request":
            requests = [service.request_code(ON_FILE, session_id="race") for _ in range(tasks)]
            results = [o.status for o in await asyncio.gather(*requests)]
        elif op == "request-as-many-callers":
            # every task its own call and caller: only the phone's ceiling holds them back
            requests = [
                service.request_code(
                    ON_FILE,
                    session_id=f"race-{index}-{i}",
                    caller_phone=f"+1212555{index:02d}{i:02d}",
                )
                for i in range(tasks)
            ]
            results = [o.status for o in await asyncio.gather(*requests)]
        else:
            guesses = [service.verify_code(ON_FILE, arg, session_id="race") for _ in range(tasks)]
            results = [o.status for o in await asyncio.gather(*guesses)]
        await service.aclose()
        return results

    return asyncio.run(main())


def _race(backend: str, where: str, op: str, arg: str, total: int) -> Counter[str]:
    per_process = total // PROCESSES
    start_at = time.time() + 1.0
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        futures = [
            pool.submit(_worker, backend, where, op, arg, per_process, start_at, index)
            for index in range(PROCESSES)
        ]
        return Counter(s for f in futures for s in f.result())


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, key_prefix: str) -> tuple[str, str]:
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "otp.sqlite3")
    return "redis", f"{request.getfixturevalue('redis_url')}|{key_prefix}"


def _issue_code(backend: str, where: str) -> str:
    sender = RecordingSmsSender()

    async def issue() -> None:
        service = _service(backend, where, sender)
        assert (await service.request_code(ON_FILE, session_id="race")).status == "sent"
        await service.drain()
        await service.aclose()

    asyncio.run(issue())
    return sender.last_code()


def test_parallel_wrong_guesses_count_exactly_max_attempts(backend: tuple[str, str]) -> None:
    code = _issue_code(*backend)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    counts = _race(*backend, "verify", wrong, total=50)

    assert counts == Counter(wrong_code=POLICY.max_attempts, no_code=50 - POLICY.max_attempts)
    # the code was burned by the third wrong guess: the right code no longer works
    assert _race(*backend, "verify", code, total=PROCESSES) == Counter(no_code=PROCESSES)


def test_parallel_right_codes_verify_exactly_once(backend: tuple[str, str]) -> None:
    code = _issue_code(*backend)

    counts = _race(*backend, "verify", code, total=20)

    assert counts == Counter(verified=1, no_code=19)


def test_parallel_requests_send_exactly_one_sms(backend: tuple[str, str], tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.txt"

    counts = _race(*backend, "request", str(outbox), total=20)

    assert counts == Counter(sent=1, cooldown=19)
    assert outbox.read_text().splitlines() == [ON_FILE]


def test_parallel_requests_from_many_callers_stop_at_the_phone_ceiling(
    backend: tuple[str, str], tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox.txt"

    counts = _race(*backend, "request-as-many-callers", str(outbox), total=25)

    assert counts == Counter(sent=POLICY.max_phone_sends, rate_limited=25 - POLICY.max_phone_sends)
    assert outbox.read_text().splitlines() == [ON_FILE] * POLICY.max_phone_sends
