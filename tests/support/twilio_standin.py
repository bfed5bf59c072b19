"""Twilio's REST API on loopback: Messages.json and Calls.json, as api.twilio.com answers them.

The real twilio SDK is pointed here with `base_url`. A call's TwiML is kept as sent, and
`spoken(captured)` reads back what the call would say, in which language and voice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from xml.etree import ElementTree

from aiohttp import web

from tests.support.standin_server import Captured, Reply, StandIn, basic_auth

TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "stand-in-auth-token"

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
    # carriers' registration rules (reported on the delivery status by the real Twilio)
    30032: (400, "Toll-Free Number Has Not Been Verified"),
    30034: (400, "US A2P 10DLC - Message from an Unregistered Number"),
    # the Calls API
    21210: (400, "The source phone number provided, {to}, is not yet verified for your account."),
    21214: (400, "'To' phone number cannot be reached"),
    21215: (
        400,
        "Account not authorized to call {to}. Perhaps you need to enable some international "
        "permissions.",
    ),
    21216: (400, "Account not allowed to call {to}"),
    21219: (400, "'To' phone number not verified"),
}


def twilio_error(code: int) -> Reply:
    """Twilio's HTTP status and message for `code` (quoting the number, as Twilio does)."""
    status, message = TWILIO_MESSAGES[code]
    return Reply(status=status, code=code, message=message)


@dataclass(frozen=True)
class Said:
    """One `<Say>` of a call's TwiML: its text, language and voice."""

    text: str
    language: str | None
    voice: str | None


def spoken(captured: Captured) -> list[Said]:
    """What a call placed through the stand-in would say, `<Say>` by `<Say>`."""
    root = ElementTree.fromstring(captured.form["Twiml"])  # noqa: S314 - TwiML our code wrote
    return [
        Said(element.text or "", element.get("language"), element.get("voice"))
        for element in root.iter("Say")
    ]


class TwilioStandIn(StandIn):
    """`POST /2010-04-01/Accounts/{sid}/Messages.json` and `.../Calls.json`, as
    api.twilio.com answers them. `requests` holds both; `calls` only the calls."""

    def __init__(
        self, *, account_sid: str = TWILIO_SID, auth_token: str = TWILIO_TOKEN, delay: float = 0.0
    ) -> None:
        super().__init__(delay=delay)
        self.account_sid = account_sid
        self.auth_token = auth_token

    def routes(self) -> list[web.RouteDef]:
        accounts = "/2010-04-01/Accounts/{sid}"
        return [
            web.post(f"{accounts}/Messages.json", self._messages),
            web.post(f"{accounts}/Calls.json", self._calls),
        ]

    @property
    def calls(self) -> list[Captured]:
        return [r for r in self.requests if r.path.endswith("/Calls.json")]

    async def _messages(self, request: web.Request) -> web.Response:
        captured, reply = await self._capture(request)
        refusal = self._refusal(request, captured, reply)
        if refusal is not None:
            return refusal
        sid = "SM" + uuid.uuid4().hex
        return self._created(
            sid,
            "Messages",
            captured,
            {
                "body": captured.form.get("Body"),
                "date_sent": None,
                "error_code": None,
                "error_message": None,
                "messaging_service_sid": captured.form.get("MessagingServiceSid"),
                "num_media": "0",
                "num_segments": "1",
                "status": "queued",
            },
        )

    async def _calls(self, request: web.Request) -> web.Response:
        captured, reply = await self._capture(request)
        refusal = self._refusal(request, captured, reply)
        if refusal is not None:
            return refusal
        sid = "CA" + uuid.uuid4().hex
        return self._created(
            sid,
            "Calls",
            captured,
            {
                "answered_by": None,
                "caller_name": None,
                "duration": None,
                "end_time": None,
                "forwarded_from": None,
                "parent_call_sid": None,
                "phone_number_sid": "PN" + uuid.uuid4().hex,
                "queue_time": "0",
                "start_time": None,
                "status": "queued",
                "trunk_sid": None,
            },
        )

    def _refusal(
        self, request: web.Request, captured: Captured, reply: Reply | None
    ) -> web.Response | None:
        if basic_auth(request) != (self.account_sid, self.auth_token) or (
            request.match_info["sid"] != self.account_sid
        ):
            reply = twilio_error(20003)
        if reply is None:
            return None
        if reply.raw is not None:
            return web.Response(status=reply.status, text=reply.raw, content_type="text/html")
        code = reply.code if reply.code is not None else reply.status
        message = (reply.message or "Error").format(to=captured.form.get("To", ""))
        return web.json_response(
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": reply.status,
            },
            status=reply.status,
        )

    def _created(
        self, sid: str, collection: str, captured: Captured, fields: dict[str, object]
    ) -> web.Response:
        now = dt.datetime.now(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        return web.json_response(
            {
                "account_sid": self.account_sid,
                "api_version": "2010-04-01",
                "date_created": now,
                "date_updated": now,
                "direction": "outbound-api",
                "from": captured.form.get("From"),
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                "subresource_uris": {},
                "to": captured.form.get("To", ""),
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/{collection}/{sid}.json",
                **fields,
            },
            status=201,
        )
