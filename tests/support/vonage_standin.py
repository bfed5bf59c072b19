"""Vonage's SMS API on loopback (`POST /sms/json`), over TLS: the Vonage SDK speaks only https.

Serve it with `self_signed_tls(...)`'s context and trust its certificate through
REQUESTS_CA_BUNDLE (the SDK uses requests).
"""

from __future__ import annotations

import json
import ssl
import uuid

from aiohttp import web

from tests.support.standin_server import Reply, StandIn, basic_auth

VONAGE_KEY = "standinkey"
VONAGE_SECRET = "standin-secret"


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
        if basic_auth(request) != (self.api_key, self.api_secret):
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
