"""`python -m agent console --text` as a developer runs it: a real process on a terminal (a
pty), read and typed to the way a person would."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType


class TypedConsole:
    """The typed console in a pty: `wait_for` what the screen shows, `type` a line."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd = cwd
        self.env = env
        self.screen = bytearray()
        self._controller = -1
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> TypedConsole:
        self._controller, terminal = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agent", "console", "--text"],
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            cwd=self.cwd,
            env=self.env,
        )
        os.close(terminal)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        os.close(self._controller)

    @property
    def text(self) -> str:
        return self.screen.decode(errors="replace")

    def tail(self) -> str:
        return self.screen[-3000:].decode(errors="replace")

    async def wait_for(self, text: str, timeout: float = 300) -> bool:
        """Read the screen until `text` shows (True), or the time or the process runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and text.encode() not in self.screen:
            ready, _, _ = select.select([self._controller], [], [], 0)
            if ready:
                try:
                    self.screen.extend(os.read(self._controller, 65536))
                except OSError:
                    return False
            else:
                await asyncio.sleep(0.05)
        return text.encode() in self.screen

    def type(self, line: str) -> None:
        os.write(self._controller, line.encode() + b"\r")

    def end_of_input(self) -> None:
        os.write(self._controller, b"\x04")  # Ctrl-D

    def exit_status(self, timeout: float = 120) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)
