"""The AWS SNS Query API on loopback (`POST /`, Action=Publish), answering XML like SNS."""

from __future__ import annotations

import uuid

from aiohttp import web

from tests.support.standin_server import Captured, Reply, StandIn

AWS_KEY_ID = "AKIASTANDIN000000000"
AWS_SECRET = "stand-in-secret-access-key"

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
