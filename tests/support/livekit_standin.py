"""A local stand-in for the one LiveKit server API the agent calls: SIP participant transfer.

It speaks Twirp like the real server (protobuf in, protobuf out) on 127.0.0.1, records each
request, and answers with the transfer status a test chooses, so the real `livekit.api`
client inside the agent is what gets exercised.
"""

from __future__ import annotations

from aiohttp import web
from livekit import api

from tests.support.http_standin import LocalHttpServer

TRANSFER_PATH = "/twirp/livekit.SIP/TransferSIPParticipant"


class LiveKitSipStandin(LocalHttpServer):
    def __init__(self) -> None:
        super().__init__()
        self.transfers: list[api.TransferSIPParticipantRequest] = []
        self.status = api.SIPTransferStatus.STS_TRANSFER_SUCCESSFUL
        self.authorization: list[str] = []

    def routes(self) -> list[web.RouteDef]:
        return [web.post(TRANSFER_PATH, self._transfer)]

    async def _transfer(self, request: web.Request) -> web.Response:
        self.authorization.append(request.headers.get("Authorization", ""))
        self.transfers.append(api.TransferSIPParticipantRequest.FromString(await request.read()))
        reply = api.TransferSIPParticipantResponse(transfer_id="TR_standin", status=self.status)
        return web.Response(body=reply.SerializeToString(), content_type="application/protobuf")
