"""What the SMS and call providers' local stand-ins share: an aiohttp server on loopback.

Each stand-in (`twilio_standin`, `sns_standin`, `vonage_standin`) answers like the real API
does for the calls we make, so tests and benchmarks exercise the real SDKs' own request
building and error parsing. Every request is recorded in `requests`, so a test can prove
where a message went. Behaviour is scripted with `fail(...)` (answer errors, `times` times or
always) and `delay` (seconds before answering). No pytest imports: `bench/` uses these too.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import ipaddress
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from aiohttp import web


@dataclass
class Captured:
    """One request as the stand-in received it."""

    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]
    raw: str
    peer_port: int | None = None  # the client's port: equal ports = one reused connection


@dataclass
class Reply:
    """A scripted error answer: HTTP status plus the provider's error code/message."""

    status: int
    code: str | int | None = None
    message: str | None = None
    raw: str | None = None  # answer this text verbatim instead of the provider's format


@dataclass
class _Script:
    replies: list[Reply] = field(default_factory=list)
    always: Reply | None = None

    def next(self) -> Reply | None:
        if self.replies:
            return self.replies.pop(0)
        return self.always


class StandIn:
    """Common server plumbing: start/stop, request capture, scripted failures, delay."""

    scheme = "http"

    def __init__(self, *, delay: float = 0.0, ssl_context: ssl.SSLContext | None = None) -> None:
        self.delay = delay
        self.requests: list[Captured] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._script = _Script()
        self._ssl = ssl_context
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self.port = 0

    def fail(self, reply: Reply, *, times: int | None = None) -> None:
        """Answer `reply` the next `times` requests (None: every request until `reset`)."""
        if times is None:
            self._script.always = reply
        else:
            self._script.replies.extend([reply] * times)

    def reset(self) -> None:
        self._script = _Script()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    async def start(self) -> None:
        self._stopping = asyncio.Event()
        app = web.Application()
        app.add_routes(self.routes())
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._ssl)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> StandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _capture(self, request: web.Request) -> tuple[Captured, Reply | None]:
        raw = await request.text()
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        peer = request.transport.get_extra_info("peername") if request.transport else None
        port = peer[1] if peer else None
        captured = Captured(request.method, request.path, dict(request.headers), form, raw, port)
        self.requests.append(captured)
        reply = self._script.next()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:  # a slow provider; cut short when the stand-in stops
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.delay)
        finally:
            self.in_flight -= 1
        return captured, reply


def basic_auth(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password


S = TypeVar("S", bound="StandIn")


class OnItsOwnLoop(Generic[S]):
    """Serve a stand-in from a thread with its own event loop, as a provider runs elsewhere:
    its HTTP work then is not run (and measured) on the loop of the code under test."""

    def __init__(self, standin: S) -> None:
        self.standin = standin
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def __aenter__(self) -> S:
        self.thread.start()
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.standin.start(), self.loop))
        return self.standin

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.standin.stop(), self.loop))
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.to_thread(self.thread.join)
        self.loop.close()


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context for 127.0.0.1 and the certificate file clients should trust."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "standin-cert.pem"
    key_path = directory / "standin-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path
