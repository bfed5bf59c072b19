"""A local stand-in for the LiveKit server APIs the agent calls: SIP participant transfer,
deleting a room (hanging up a phone call), and the room list the start-up check asks for.

It speaks Twirp like the real server (protobuf in, protobuf out) on 127.0.0.1, records each
request, and answers with the transfer status a test chooses, so the real `livekit.api`
client inside the agent is what gets exercised. With `accepted_key` set, a room-list request
whose token was not signed with that key and `accepted_secret` is refused with 401, as the
real server does.
"""

from __future__ import annotations

from aiohttp import web
from livekit import api

from tests.support.http_standin import LocalHttpServer

TRANSFER_PATH = "/twirp/livekit.SIP/TransferSIPParticipant"
LIST_ROOMS_PATH = "/twirp/livekit.RoomService/ListRooms"
DELETE_ROOM_PATH = "/twirp/livekit.RoomService/DeleteRoom"


class LiveKitSipStandin(LocalHttpServer):
    def __init__(self, *, accepted_key: str | None = None, accepted_secret: str = "") -> None:
        super().__init__()
        self.accepted_key = accepted_key
        self.accepted_secret = accepted_secret
        self.transfers: list[api.TransferSIPParticipantRequest] = []
        self.status = api.SIPTransferStatus.STS_TRANSFER_SUCCESSFUL
        self.authorization: list[str] = []
        self.deleted_rooms: list[str] = []

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(TRANSFER_PATH, self._transfer),
            web.post(LIST_ROOMS_PATH, self._rooms),
            web.post(DELETE_ROOM_PATH, self._delete_room),
        ]

    async def _delete_room(self, request: web.Request) -> web.Response:
        """A room deleted: every participant, the SIP caller too, is disconnected."""
        self.authorization.append(request.headers.get("Authorization", ""))
        self.deleted_rooms.append(api.DeleteRoomRequest.FromString(await request.read()).room)
        reply = api.DeleteRoomResponse()
        return web.Response(body=reply.SerializeToString(), content_type="application/protobuf")

    async def _rooms(self, request: web.Request) -> web.Response:
        self.authorization.append(request.headers.get("Authorization", ""))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.accepted_key is not None:
            try:
                issuer = api.TokenVerifier(self.accepted_key, self.accepted_secret).verify(token)
            except Exception:
                issuer = None
            if issuer is None:
                return web.json_response(
                    {"code": "unauthenticated", "msg": "invalid API key"}, status=401
                )
        reply = api.ListRoomsResponse()
        return web.Response(body=reply.SerializeToString(), content_type="application/protobuf")

    async def _transfer(self, request: web.Request) -> web.Response:
        self.authorization.append(request.headers.get("Authorization", ""))
        self.transfers.append(api.TransferSIPParticipantRequest.FromString(await request.read()))
        reply = api.TransferSIPParticipantResponse(transfer_id="TR_standin", status=self.status)
        return web.Response(body=reply.SerializeToString(), content_type="application/protobuf")
