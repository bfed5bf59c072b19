"""A local OpenAI-compatible chat server, for running the real agent process offline.

It answers `POST /v1/chat/completions` (streamed or not) and records the requests, so a test
can run `python -m agent console --text` with `OPENAI_BASE_URL` pointing here, exactly as a
developer would point it at any OpenAI-compatible server. When the caller's last words
contain a trigger from `tool_rules`, it calls that tool; after a tool it relays the tool's
output; otherwise it says `reply`.

With `fail_on`, a request whose last user message contains a trigger ("" matches every one)
is answered with HTTP 500 and that error message, as llama.cpp answers a tool call it cannot
parse. With `accepted_key` set, a request without that bearer key is refused with 401, as OpenAI
refuses a wrong key (or with `refusal_status`, e.g. 403 as for a key without permission).
Streamed answers end with a usage chunk when the client asks for one
(`stream_options.include_usage`), so the agent's cost reporting has tokens to count.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from tests.support.http_standin import LocalHttpServer

REPLY = "This is the stand-in model speaking."
# Tokens the stand-in reports per request: 10 per message in, 7 out.
PROMPT_TOKENS_PER_MESSAGE = 10
COMPLETION_TOKENS = 7


class OpenAIStandin(LocalHttpServer):
    def __init__(
        self,
        reply: str = REPLY,
        tool_rules: dict[str, tuple[str, dict[str, Any]]] | None = None,
        *,
        accepted_key: str | None = None,
        refusal_status: int = 401,
        fail_on: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.reply = reply
        self.tool_rules = tool_rules or {}
        self.accepted_key = accepted_key
        self.refusal_status = refusal_status
        self.fail_on = fail_on or {}
        self.requests: list[dict[str, Any]] = []
        self.refused = 0

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/chat/completions", self._chat),
            web.get("/v1/models", self._models),
        ]

    def _refusal(self, request: web.Request) -> web.Response | None:
        if self.accepted_key is None:
            return None
        if request.headers.get("Authorization", "") == f"Bearer {self.accepted_key}":
            return None
        self.refused += 1
        error = {
            "message": "Incorrect API key provided.",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        }
        return web.json_response({"error": error}, status=self.refusal_status)

    async def _models(self, request: web.Request) -> web.Response:
        if (refusal := self._refusal(request)) is not None:
            return refusal
        return web.json_response(
            {"object": "list", "data": [{"id": "standin", "object": "model", "owned_by": "us"}]}
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        if (refusal := self._refusal(request)) is not None:
            return refusal
        body = await request.json()
        self.requests.append(body)
        if (failure := self._failure(body["messages"])) is not None:
            return failure
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
                    "usage": self._usage(body),
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
        if body.get("stream_options", {}).get("include_usage"):
            chunk = {
                "id": "chatcmpl-standin",
                "object": "chat.completion.chunk",
                "created": created,
                "model": body.get("model", "standin"),
                "choices": [],
                "usage": self._usage(body),
            }
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    def _failure(self, messages: list[dict[str, Any]]) -> web.Response | None:
        said = next((str(m.get("content")) for m in reversed(messages) if m["role"] == "user"), "")
        for trigger, message in self.fail_on.items():
            if trigger in said:
                error = {"message": message, "type": "server_error", "code": 500}
                return web.json_response({"error": error}, status=500)
        return None

    @staticmethod
    def _usage(body: dict[str, Any]) -> dict[str, int]:
        prompt = PROMPT_TOKENS_PER_MESSAGE * len(body["messages"])
        return {
            "prompt_tokens": prompt,
            "completion_tokens": COMPLETION_TOKENS,
            "total_tokens": prompt + COMPLETION_TOKENS,
        }

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
