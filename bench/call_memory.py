"""Memory per call and of an idle worker: the figures behind the sizing advice in
docs/operations.md.

Two measurements, both printed:

1. Calls in one process. N scripted calls (default 1, 10, 50) run at once in this process,
   each a real `AgentSession` in text mode with the scripted LLM from
   `tests/support/scripted_llm.py` and the real `ClinicAgent` tools, sharing one `Services`
   (one `ClinicDB`, one `OtpService` on SQLite, an in-memory SMS recorder), as the calls of
   one job process would. Every call identifies itself, asks for a code and reads it back, so
   each holds a verified `CallState`, its chat history and its session tasks. With all N
   sessions still open, the process's resident memory (VmRSS in /proc/self/status) is
   compared with the figure before they started; the difference divided by N is the memory
   one call adds. One warm-up call runs first, so imports and caches are not charged to the
   calls.

2. An idle worker. `python -m agent start` runs as a child process against a LiveKit URL
   where nothing listens (127.0.0.1, a closed port), so it never receives a job. It still
   starts its HTTP health server, its forkserver and its pool of idle job processes (one per
   CPU in `start` mode, each having run `prewarm`, i.e. loaded the Silero VAD). After the
   pool settles, the RSS and PSS of every process in the tree are read from /proc. PSS
   (proportional set size, from /proc/<pid>/smaps_rollup) splits pages shared between the
   forked processes, so the PSS total is what the tree really costs; the RSS total counts
   shared pages once per process.

What this does not capture: an audio call also holds VAD, STT and TTS streams, audio frame
buffers, the WebRTC connection and the noise-cancellation filter. Those are not exercised in
text mode, so a real phone call needs more than figure 1 says.

    uv run python bench/call_memory.py [--calls 1 10 50] [--no-worker]

Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livekit.agents import AgentSession

from agent import CallState, ClinicAgent, Services
from clinic import ClinicDB
from tests.support.load_scenario import Caller, populate
from tests.support.ports import free_port
from tests.support.scripted_llm import ScriptedLLM
from tests.support.sms import RecordingSmsSender
from verification import OtpPolicy, OtpService, SqliteOtpStore

PEPPER = b"bench-call-memory-pepper-0123456789"
ROOT = Path(__file__).resolve().parent.parent
WORKER_SETTLE_SECONDS = 60.0
MIB = 1024 * 1024


# -- /proc readers ----------------------------------------------------------------------------


def _status_kib(pid: int | str, field: str) -> int:
    """A `kB` field (VmRSS, VmHWM) of /proc/<pid>/status, in KiB (0 if the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _rollup_kib(pid: int) -> tuple[int, int]:
    """(PSS, USS) of a process in KiB from /proc/<pid>/smaps_rollup; USS = private pages."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0, 0
    fields: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "kB":
            fields[parts[0].rstrip(":")] = int(parts[1])
    return fields.get("Pss", 0), fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)


def rss_mib() -> float:
    return _status_kib("self", "VmRSS") / 1024


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(FileNotFoundError):
            found.extend(int(c) for c in (task / "children").read_text().split())
    return found


def process_tree(pid: int) -> list[int]:
    tree, queue = [], [pid]
    while queue:
        current = queue.pop()
        tree.append(current)
        queue.extend(_children(current))
    return tree


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def _parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "worker (main process)"
    if _parent(pid) != root:
        return "job process (idle)"  # forked by the forkserver
    cmd = _cmdline(pid)
    if "resource_tracker" in cmd:
        return "resource tracker"
    if "forkserver" in cmd:
        return "forkserver"
    return "other"


# -- 1. calls in one process --------------------------------------------------------------------


@asynccontextmanager
async def open_call(
    services: Services, caller: Caller, sms: RecordingSmsSender
) -> AsyncIterator[None]:
    """One call, verified by a texted code; the session stays open until the context exits."""
    scripted = ScriptedLLM()
    state = CallState(services=services, session_id=caller.session_id)
    async with AgentSession[CallState](llm=scripted, userdata=state) as session:
        await session.start(ClinicAgent(clinic_name="Memory Bench Clinic"))
        dob = caller.date_of_birth.isoformat()
        scripted.call("verify_identity", full_name=caller.full_name, date_of_birth=dob)
        await session.run(user_input=f"I'm {caller.full_name}, born {dob}")
        scripted.call("request_otp", patient_phone=caller.spoken_phone)
        await session.run(user_input=f"Text me at {caller.spoken_phone}")
        code = next(body for to, body in sms.sent if to == caller.phone).split("code is ")[1][:6]
        scripted.call("verify_otp", code=code)
        await session.run(user_input=f"It's {code}")
        scripted.call("list_appointments")
        await session.run(user_input="What appointments do I have?")
        if state.level_for(caller.patient_id) != 2:
            raise AssertionError(f"{caller.session_id} did not reach Level 2")
        yield


async def calls_in_one_process(
    counts: list[int],
) -> tuple[tuple[float, float], list[tuple[int, float, float, float]]]:
    """((RSS before, after the warm-up call), [(N, before, all open, all closed)]), MiB."""
    tmp = Path(tempfile.mkdtemp(prefix="call-memory-"))
    clinic = ClinicDB(tmp / "clinic.sqlite3")
    sms = RecordingSmsSender()
    otp = OtpService(SqliteOtpStore(tmp / "otp.sqlite3"), sms, clinic, OtpPolicy(), pepper=PEPPER)
    services = Services(clinic=clinic, otp=otp)
    # Every call gets its own patient and phone (no shared cooldowns or send limits).
    callers = await populate(
        clinic, max(2, 1 + sum(counts)), shared_slots=0, session_prefix="memory"
    )
    warm_up, pool = callers[0], iter(callers[1:])

    gc.collect()
    cold = rss_mib()
    async with open_call(services, warm_up, sms):
        pass
    gc.collect()
    warm = (cold, rss_mib())
    results = []
    for n in counts:
        batch = [next(pool) for _ in range(n)]
        gc.collect()
        before = rss_mib()
        async with AsyncExitStack() as stack:
            await asyncio.gather(
                *(stack.enter_async_context(open_call(services, c, sms)) for c in batch)
            )
            gc.collect()
            during = rss_mib()
        gc.collect()
        after = rss_mib()
        results.append((n, before, during, after))
    await services.aclose()
    return warm, results


# -- 2. an idle worker --------------------------------------------------------------------------


Sample = tuple[str, int, int, int, int]  # role, pid, RSS, PSS, USS (KiB)


def idle_worker(settle: float) -> tuple[list[Sample], str]:
    """Start `python -m agent start` against nothing; return (role, pid, RSS, PSS, USS in
    KiB) per process once the pool has settled, and the tail of its log."""
    tmp = Path(tempfile.mkdtemp(prefix="call-memory-worker-"))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LIVEKIT_", "REDIS_", "TWILIO_", "VONAGE_", "SMS_"))
    }
    env |= {
        "APP_ENV": "development",
        "LIVEKIT_URL": f"ws://127.0.0.1:{free_port()}",
        "LIVEKIT_API_KEY": "bench",
        "LIVEKIT_API_SECRET": "bench-secret-0123456789abcdef0123456789",
        "OPENAI_API_KEY": "sk-bench-not-used",
        "DEEPGRAM_API_KEY": "bench-not-used",
        "OTP_PEPPER": PEPPER.decode(),
        "OTP_SQLITE_PATH": str(tmp / "otp.sqlite3"),
        "CLINIC_DATABASE_URL": f"sqlite:///{tmp / 'clinic.sqlite3'}",
        "STARTUP_CHECKS": "false",  # no LiveKit server here: measure the idle worker anyway
        "METRICS_PORT": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prometheus"),
    }
    log_path = tmp / "worker.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agent", "start"],
            cwd=tmp,  # no .env.local of the developer's is read
            env=env | {"PYTHONPATH": str(ROOT)},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            snapshot: list[Sample] = []
            deadline, stable_since, last_total = time.monotonic() + settle, None, -1
            while time.monotonic() < deadline and proc.poll() is None:
                time.sleep(1.0)
                pids = process_tree(proc.pid)
                snapshot = [
                    (_role(p, proc.pid), p, _status_kib(p, "VmRSS"), *_rollup_kib(p)) for p in pids
                ]
                total = sum(s[2] for s in snapshot)
                # settled: the same processes, total RSS within 1 MiB, for 5 s
                if abs(total - last_total) < 1024 and len(pids) > 1:
                    stable_since = stable_since or time.monotonic()
                    if time.monotonic() - stable_since >= 5:
                        break
                else:
                    stable_since = None
                last_total = total
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, 9)
                    proc.wait()
    tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-5:])
    return snapshot, tail


# -- report -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--no-worker", action="store_true", help="skip the idle worker")
    args = parser.parse_args()

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"this process after imports: VmRSS {rss_mib():.1f} MiB")
    (cold, warm), results = asyncio.run(calls_in_one_process(args.calls))
    print(
        f"first session in the process (warm-up): VmRSS {cold:.1f} -> {warm:.1f} MiB "
        f"(+{warm - cold:.1f}; LiveKit loads its local VAD and end-of-turn models once)"
    )
    print("\n1. scripted text-mode calls held open at once in one process (VmRSS, MiB)")
    print(f"   {'calls':>5}  {'before':>8}  {'all open':>8}  {'closed':>8}  {'per call':>8}")
    for n, before, during, after in results:
        print(
            f"   {n:>5}  {before:>8.1f}  {during:>8.1f}  {after:>8.1f}  "
            f"{(during - before) / n:>8.2f}"
        )
    print(f"   peak VmHWM {_status_kib('self', 'VmHWM') / 1024:.1f} MiB")

    if args.no_worker:
        return
    snapshot, tail = idle_worker(WORKER_SETTLE_SECONDS)
    print("\n2. idle `python -m agent start` (no LiveKit server reachable, so no jobs), MiB")
    if len(snapshot) < 2:
        print("   the worker did not start its process pool; last log lines:")
        print("   " + tail.replace("\n", "\n   "))
        return
    print(f"   {'process':<24} {'pid':>7}  {'RSS':>7}  {'PSS':>7}  {'USS':>7}")
    for role, pid, rss, pss, uss in snapshot:
        print(f"   {role:<24} {pid:>7}  {rss / 1024:>7.1f}  {pss / 1024:>7.1f}  {uss / 1024:>7.1f}")
    totals = [sum(int(s[i]) for s in snapshot) / 1024 for i in (2, 3, 4)]
    print(f"   {'total':<24} {'':>7}  {totals[0]:>7.1f}  {totals[1]:>7.1f}  {totals[2]:>7.1f}")
    print(
        "\nNot measured: VAD/STT/TTS streams, audio buffers, WebRTC and noise cancellation of "
        "an audio call."
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)  # audit records are not what is measured
    main()
