"""A TCP proxy that can cut a client off right after the server has answered.

What a network cut between a client and Redis looks like at the worst moment: the server has
run the command (or a whole pipeline) and written its answer, and the answer never arrives.
The client sees its connection close and, if it retries, sends the same command again.

    async with DroppingProxy(port) as proxy:          # in front of 127.0.0.1:port
        client = redis.asyncio.Redis.from_url(proxy.url)
        proxy.drop_next_reply()                       # the next answer is swallowed
"""

from __future__ import annotations

import asyncio
import contextlib


class DroppingProxy:
    """Forwards bytes both ways between clients and one server; `drop_next_reply` makes the
    next chunk the server sends (on any connection) vanish, and closes that client's
    connection. The server side is left to finish what it had read."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.target = (host, port)
        self.port = 0
        self.dropped = 0
        self.connections = 0
        self._drops = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def drop_next_reply(self, count: int = 1) -> None:
        self._drops += count

    async def __aenter__(self) -> DroppingProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
            upward = asyncio.create_task(self._pump(reader, up_writer))
            await self._down(up_reader, writer)
            await upward
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Client to server, until the client goes; then the server connection closes."""
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _down(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Server to client; a chunk to drop is swallowed and the client cut off."""
        while chunk := await reader.read(65536):
            if self._drops:
                self._drops -= 1
                self.dropped += 1
                writer.close()
                while await reader.read(65536):  # the server finishes; nothing reaches the client
                    pass
                return
            writer.write(chunk)
            await writer.drain()
