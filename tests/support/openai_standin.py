"""A local OpenAI-compatible chat server, for running the real agent process offline.

It answers `POST /v1/chat/completions` (streamed or not) and records the requests, so a test
can run `python -m agent console --text` with `OPENAI_BASE_URL` pointing here, exactly as a
developer would point it at any OpenAI-compatible server. When the caller's last words
contain a trigger from `tool_rules`, it calls that tool; after a tool it relays the tool's
output; otherwise it says `reply`.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from tests.support.http_standin import LocalHttpServer

REPLY = "This is the stand-in model speaking."


class OpenAIStandin(LocalHttpServer):
    def __init__(
        self, reply: str = REPLY, tool_rules: dict[str, tuple[str, dict[str, Any]]] | None = None
    ) -> None:
        super().__init__()
        self.reply = reply
        self.tool_rules = tool_rules or {}
        self.requests: list[dict[str, Any]] = []

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/v1/chat/completions", self._chat)]

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        created = int(time.time())
        delta = self._answer(body["messages"])
        if not body.get("stream"):
            return web.json_response(
                {
                    "id": "chatcmpl-standin",
                    "object": "chat.completion",
                    "created": created,
                    "model": body.get("model", "standin"),
                    "choices": [
                        {
                            "index": 0,
                            "message": delta,
                            "finish_reason": "stop",
                        }
                    ],
                }
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        finish_reason = "tool_calls" if "tool_calls" in delta else "stop"
        for part, finish in ((delta, None), ({}, finish_reason)):
            chunk = {
                "id": "chatcmpl-standin",
                "object": "chat.completion.chunk",
                "created": created,
                "model": body.get("model", "standin"),
                "choices": [{"index": 0, "delta": part, "finish_reason": finish}],
            }
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    def _answer(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        last = messages[-1]
        if last["role"] == "tool":
            return {"role": "assistant", "content": f"(relaying) {last['content']}"}
        said = str(last.get("content", ""))
        for trigger, (name, arguments) in self.tool_rules.items():
            if trigger in said:
                call = {
                    "index": 0,
                    "id": f"call_{len(self.requests)}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(arguments)},
                }
                return {"role": "assistant", "content": None, "tool_calls": [call]}
        return {"role": "assistant", "content": self.reply}
