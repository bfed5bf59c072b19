"""Senders and servers that misbehave the way real SMS providers do, for service tests."""

from __future__ import annotations

import asyncio
import contextlib
import itertools

from verification import SmsReceipt


class SlowSender:
    """Accepts every message after `delay` seconds and counts what it accepted."""

    provider = "slow"

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.delivered = 0
        self._ids = itertools.count(1)

    async def send(self, to: str, body: str) -> SmsReceipt:
        await asyncio.sleep(self.delay)
        self.delivered += 1
        return SmsReceipt(self.provider, f"slow-{next(self._ids)}")

    async def aclose(self) -> None:
        """Nothing to release."""


class DroppingServer:
    """An HTTP server that reads each request in full and then closes the connection
    without a word: the provider may have taken the message, and we cannot know."""

    def __init__(self) -> None:
        self.requests = 0
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> DroppingServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            await reader.readexactly(length)
            self.requests += 1
        writer.close()
