"""A private 3-node Redis Cluster for the test session: three `redis-server` processes in
cluster mode on free ports of 127.0.0.1, joined by `redis-cli --cluster create`, persisting
nothing. Like tests/support/redis_server.py, nothing another run or a shared Redis holds
can matter.
"""

from __future__ import annotations

import functools
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.ports import free_port
from tests.support.redis_server import throwaway_server_args

REDIS_CLUSTER_SLOTS = 16384


def _answers_ping(port: int) -> bool:
    return _command(port, "PING").startswith(b"+PONG")


def _command(port: int, *args: str, timeout: float = 1.0) -> bytes:
    """Send one inline command to a node and return the raw reply (enough for PING and
    CLUSTER INFO; keeps this module free of the client under test)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(" ".join(args).encode() + b"\r\n")
        reply = b""
        while True:
            chunk = s.recv(65536)
            reply += chunk
            if not chunk or _complete(reply):
                return reply


def _complete(reply: bytes) -> bool:
    if reply[:1] in (b"+", b"-", b":"):
        return reply.endswith(b"\r\n")
    if reply[:1] == b"$":
        header, _, body = reply.partition(b"\r\n")
        return len(body) >= int(header[1:]) + 2
    return False


def _port_with_free_bus_port() -> int:
    """A free port P whose cluster-bus port P + 10000 is free too (the bus port every Redis
    version uses by default; `--cluster-port` exists only from Redis 7)."""
    for _ in range(200):
        port = free_port()
        if port + 10000 > 65535:
            continue
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port + 10000))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair (P, P + 10000) found for a cluster node")


class RedisClusterProcesses:
    """Three primaries (no replicas) covering all 16384 slots; `stop()` kills them all."""

    def __init__(self, workdir: Path, nodes: int = 3) -> None:
        server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
        missing = [
            name for name, path in (("redis-server", server), ("redis-cli", cli)) if not path
        ]
        if missing or server is None or cli is None:
            raise FileNotFoundError(f"{' and '.join(missing)} not installed")
        self.server, self.cli = server, cli
        self.workdir = workdir
        self.ports: list[int] = []
        while len(self.ports) < nodes:
            port = _port_with_free_bus_port()
            if port not in self.ports:
                self.ports.append(port)
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        """One node's URL: the client discovers the rest."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            for port in self.ports:
                self._spawn(port)
            for port in self.ports:
                self._wait(functools.partial(_answers_ping, port), "start", port)
            create = subprocess.run(
                [
                    self.cli,
                    "--cluster",
                    "create",
                    *(f"127.0.0.1:{port}" for port in self.ports),
                    "--cluster-replicas",
                    "0",
                    "--cluster-yes",
                ],
                capture_output=True,
                timeout=30,
                check=False,
            )
            if create.returncode != 0:
                raise RuntimeError(
                    f"redis-cli --cluster create failed: {create.stdout[-800:]!r}"
                    f" {create.stderr[-800:]!r}"
                )
            for port in self.ports:
                self._wait(functools.partial(self._ready, port), "reach cluster_state:ok", port)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, port: int) -> None:
        self.processes.append(
            subprocess.Popen(
                throwaway_server_args(
                    self.server,
                    port,
                    self.workdir,
                    f"redis-{port}.log",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    f"nodes-{port}.conf",
                ),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    def _ready(self, port: int) -> bool:
        info = _command(port, "CLUSTER", "INFO").decode()
        return (
            "cluster_state:ok" in info
            and f"cluster_slots_ok:{REDIS_CLUSTER_SLOTS}" in info
            and f"cluster_known_nodes:{len(self.ports)}" in info
        )

    def _wait(self, ready: Callable[[], bool], what: str, port: int, seconds: float = 15.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for node_port, process in zip(self.ports, self.processes, strict=False):
                if process.poll() is not None:
                    log = self.workdir / f"redis-{node_port}.log"
                    tail = log.read_text()[-800:] if log.exists() else ""
                    raise RuntimeError(f"redis-server on port {node_port} exited: {tail}")
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis node on port {port} did not {what} within {seconds:.0f} s")

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
        for process in self.processes:
            process.wait(timeout=10)
        self.processes = []
