"""A TCP proxy in front of a real server that counts round trips, for tests of "one trip".

The client talks to the proxy as it would to the server (`port`); each connection is relayed
as it is, byte for byte. A round trip is counted each time the client starts sending after
the server has answered (or first sends at all): however many packets a request takes, or
however many statements a pipeline holds, it is one trip until the server has replied.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Self
from urllib.parse import urlsplit, urlunsplit


class RoundTripProxy:
    """Relays 127.0.0.1:`port` to `host`:`target_port`, counting requests that waited for an
    answer. Use as `async with RoundTripProxy(5432) as proxy:` and read `proxy.trips`."""

    def __init__(self, target_port: int, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.target_port = target_port
        self.port = 0
        self.trips = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for pipe in list(self._pipes):
            pipe.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._pipes, return_exceptions=True)
        await self._server.wait_closed()

    def url(self, url: str) -> str:
        """`url` (a postgresql:// URL to the target) pointed at this proxy instead."""
        parts = urlsplit(url)
        user, at, _ = parts.netloc.rpartition("@")
        return urlunsplit(parts._replace(netloc=f"{user}{at}127.0.0.1:{self.port}"))

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(self.host, self.target_port)
        answered = [True]  # the server spoke last (or no one has yet): the next send is a trip

        async def pipe(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, from_client: bool
        ) -> None:
            try:
                while data := await reader.read(65536):
                    if from_client and answered[0]:
                        self.trips += 1
                    answered[0] = not from_client
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                writer.close()

        tasks = {
            asyncio.create_task(pipe(client_r, server_w, True)),
            asyncio.create_task(pipe(server_r, client_w, False)),
        }
        self._pipes |= tasks
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pipes -= tasks
