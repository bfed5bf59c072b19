"""A private redis-server for the test session, on a free port, persisting nothing.

Tests never touch a Redis someone else uses, so nothing a previous run left there can
matter, and fault tests may stop and restart this one freely.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.support.ports import free_port


def throwaway_server_args(
    binary: str, port: int, workdir: Path, logfile: str, *extra: str
) -> list[str]:
    """A redis-server on loopback that keeps nothing on disk, plus `extra` flags."""
    return [
        binary, "--port", str(port), "--bind", "127.0.0.1", *extra,
        "--save", "", "--appendonly", "no",
        "--dir", str(workdir), "--logfile", str(workdir / logfile),
    ]  # fmt: skip


class RedisServer:
    """One redis-server process; `stop()` kills it, `start()` brings it back on the same port."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not installed")
        self.binary = binary
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            throwaway_server_args(self.binary, self.port, self.workdir, "redis.log"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
