"""A local stand-in for the one LiveKit server API the agent calls: SIP participant transfer.

It speaks Twirp like the real server (protobuf in, protobuf out) on 127.0.0.1, records each
request, and answers with the transfer status a test chooses, so the real `livekit.api`
client inside the agent is what gets exercised.
"""

from __future__ import annotations

from aiohttp import web
from livekit import api

TRANSFER_PATH = "/twirp/livekit.SIP/TransferSIPParticipant"


class LiveKitSipStandin:
    def __init__(self) -> None:
        self.transfers: list[api.TransferSIPParticipantRequest] = []
        self.status = api.SIPTransferStatus.STS_TRANSFER_SUCCESSFUL
        self.authorization: list[str] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(TRANSFER_PATH, self._transfer)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _transfer(self, request: web.Request) -> web.Response:
        self.authorization.append(request.headers.get("Authorization", ""))
        self.transfers.append(api.TransferSIPParticipantRequest.FromString(await request.read()))
        reply = api.TransferSIPParticipantResponse(transfer_id="TR_standin", status=self.status)
        return web.Response(body=reply.SerializeToString(), content_type="application/protobuf")
