"""Local stand-ins for the SMS providers' HTTP APIs, for tests and benchmarks.

Each one is a small aiohttp.web server on 127.0.0.1 (a free port) that answers like the real
API does for the one call we make: Twilio's Messages.json, SNS's Query-API Publish (XML),
Vonage's /sms/json (over TLS, because the Vonage SDK only speaks https). The real SDKs are
pointed at them, so tests exercise the SDKs' own request building and error parsing.

Every request is recorded in `requests`, so a test can prove where the message body went.
Behaviour is scripted with `fail(...)` (answer errors, `times` times or always) and `delay`
(seconds before answering). No pytest imports: `bench/sms_send.py` uses these too.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import ipaddress
import json
import ssl
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "stand-in-auth-token"
AWS_KEY_ID = "AKIASTANDIN000000000"
AWS_SECRET = "stand-in-secret-access-key"
VONAGE_KEY = "standinkey"
VONAGE_SECRET = "standin-secret"


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


def _basic_auth(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password


# --- Twilio ------------------------------------------------------------------------------

TWILIO_MESSAGES = {
    20003: (401, "Authenticate"),
    20429: (429, "Too Many Requests"),
    21211: (400, "The 'To' number {to} is not a valid phone number."),
    21408: (
        400,
        "Permission to send an SMS has not been enabled for the region "
        "indicated by the 'To' number: {to}.",
    ),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number {to} is not a valid mobile number"),
    30003: (400, "Unreachable destination handset"),
    30004: (400, "Message blocked"),
    30005: (400, "Unknown destination handset"),
    30006: (400, "Landline or unreachable carrier"),
    30007: (400, "Message filtered"),
    30008: (400, "Unknown error"),
}


def twilio_error(code: int) -> Reply:
    """Twilio's HTTP status and message for `code` (quoting the number, as Twilio does)."""
    status, message = TWILIO_MESSAGES[code]
    return Reply(status=status, code=code, message=message)


class TwilioStandIn(StandIn):
    """`POST /2010-04-01/Accounts/{sid}/Messages.json`, as api.twilio.com answers it."""

    def __init__(
        self, *, account_sid: str = TWILIO_SID, auth_token: str = TWILIO_TOKEN, delay: float = 0.0
    ) -> None:
        super().__init__(delay=delay)
        self.account_sid = account_sid
        self.auth_token = auth_token

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/2010-04-01/Accounts/{sid}/Messages.json", self._messages)]

    async def _messages(self, request: web.Request) -> web.Response:
        captured, reply = await self._capture(request)
        to = captured.form.get("To", "")
        if _basic_auth(request) != (self.account_sid, self.auth_token) or (
            request.match_info["sid"] != self.account_sid
        ):
            reply = twilio_error(20003)
        if reply is not None:
            if reply.raw is not None:
                return web.Response(status=reply.status, text=reply.raw, content_type="text/html")
            code = reply.code if reply.code is not None else reply.status
            message = (reply.message or "Error").format(to=to)
            return web.json_response(
                {
                    "code": code,
                    "message": message,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": reply.status,
                },
                status=reply.status,
            )
        now = dt.datetime.now(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        sid = "SM" + uuid.uuid4().hex
        return web.json_response(
            {
                "account_sid": self.account_sid,
                "api_version": "2010-04-01",
                "body": captured.form.get("Body"),
                "date_created": now,
                "date_sent": None,
                "date_updated": now,
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": captured.form.get("From"),
                "messaging_service_sid": captured.form.get("MessagingServiceSid"),
                "num_media": "0",
                "num_segments": "1",
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                "status": "queued",
                "subresource_uris": {},
                "to": to,
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            },
            status=201,
        )


# --- AWS SNS -----------------------------------------------------------------------------

_SNS_NS = "http://sns.amazonaws.com/doc/2010-03-31/"


class SnsStandIn(StandIn):
    """The SNS Query API (`POST /`, Action=Publish), answering XML like sns.amazonaws.com."""

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/", self._query)]

    async def _query(self, request: web.Request) -> web.Response:
        captured, reply = await self._capture(request)
        request_id = str(uuid.uuid4())
        if not captured.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256"):
            reply = Reply(
                403, "MissingAuthenticationToken", "Request is missing Authentication Token"
            )
        elif captured.form.get("Action") != "Publish":
            reply = Reply(400, "InvalidAction", "Only Publish is stood in")
        if reply is not None:
            if reply.raw is not None:
                return web.Response(status=reply.status, text=reply.raw, content_type="text/html")
            kind = "Receiver" if reply.status >= 500 else "Sender"
            message = (reply.message or "Error").format(to=captured.form.get("PhoneNumber", ""))
            xml = (
                f'<ErrorResponse xmlns="{_SNS_NS}"><Error><Type>{kind}</Type>'
                f"<Code>{reply.code}</Code><Message>{message}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>"
            )
            return web.Response(status=reply.status, text=xml, content_type="text/xml")
        xml = (
            f'<PublishResponse xmlns="{_SNS_NS}"><PublishResult>'
            f"<MessageId>{uuid.uuid4()}</MessageId></PublishResult>"
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
            "</PublishResponse>"
        )
        return web.Response(status=200, text=xml, content_type="text/xml")

    @staticmethod
    def attributes(captured: Captured) -> dict[str, str]:
        """MessageAttributes from the Query encoding: {name: string value}."""
        out: dict[str, str] = {}
        index = 1
        while f"MessageAttributes.entry.{index}.Name" in captured.form:
            prefix = f"MessageAttributes.entry.{index}"
            out[captured.form[f"{prefix}.Name"]] = captured.form.get(
                f"{prefix}.Value.StringValue", ""
            )
            index += 1
        return out


# --- Vonage ------------------------------------------------------------------------------


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


class VonageStandIn(StandIn):
    """`POST /sms/json` as rest.nexmo.com answers it: HTTP 200 with a per-message status."""

    scheme = "https"

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        *,
        api_key: str = VONAGE_KEY,
        api_secret: str = VONAGE_SECRET,
        delay: float = 0.0,
    ) -> None:
        super().__init__(delay=delay, ssl_context=ssl_context)
        self.api_key = api_key
        self.api_secret = api_secret

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/sms/json", self._sms)]

    async def _sms(self, request: web.Request) -> web.Response:
        captured, reply = await self._capture(request)
        if _basic_auth(request) != (self.api_key, self.api_secret):
            reply = Reply(200, "4", "Bad Credentials")
        if reply is not None:
            if reply.raw is not None:
                return web.Response(status=reply.status, text=reply.raw, content_type="text/html")
            if reply.status != 200:
                return web.json_response(
                    {"type": "about:blank", "title": reply.message or "Error"}, status=reply.status
                )
            message = (reply.message or "Error").format(to=captured.form.get("to", ""))
            return web.json_response(
                {
                    "message-count": "1",
                    "messages": [{"status": str(reply.code), "error-text": message}],
                }
            )
        return web.Response(
            text=json.dumps(
                {
                    "message-count": "1",
                    "messages": [
                        {
                            "to": captured.form.get("to"),
                            "message-id": uuid.uuid4().hex[:16].upper(),
                            "status": "0",
                            "remaining-balance": "3.14159265",
                            "message-price": "0.03330000",
                            "network": "12345",
                        }
                    ],
                }
            ),
            content_type="application/json",
        )
