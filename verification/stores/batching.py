"""Many scripts, one round trip: coalescing the EVALSHAs that are in flight at the same time.

A worker answering many calls runs many `verify_code`s at once. Sent one by one, each script
pays redis-py's whole per-command path (pool checkout, packing, a socket write, a read) and a
system call; on a busy host that, not Redis, is what limits throughput. `ScriptBatcher`
collects the scripts submitted during one turn of the event loop and sends them as one
non-transactional pipeline: one write, one read of all the replies, on one connection.

Nothing about atomicity changes: every operation is still one script, which Redis runs as a
unit; a pipeline only shares the trip. Replies are matched to their callers in order, and an
error in one script (NOSCRIPT, say) is that caller's alone. A failure of the trip itself
(connection lost, timeout) fails every operation in it, exactly as it would have failed
each of them alone.

redis-py re-sends a whole pipeline once after a dropped connection, and the server may have
run it already. Each counting script carries an operation id and answers a replay with its
first answer (`lua/prelude.lua`), so a batch re-sent whole still counts each guess once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import NoScriptError

from .scripts import LuaScript, evalsha_or_eval

MAX_BATCH = 256


@dataclass(slots=True)
class _Pending:
    script: LuaScript
    keys: Sequence[str | bytes]
    args: Sequence[Any]
    future: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class ScriptBatcher:
    """Runs scripts on a standalone `redis.asyncio.Redis`, coalescing concurrent ones."""

    def __init__(self, client: Any, *, max_batch: int = MAX_BATCH) -> None:
        self.client = client
        self.max_batch = max_batch
        self._pending: list[_Pending] = []
        self._flushing: set[asyncio.Task[None]] = set()

    async def run(self, script: LuaScript, keys: Sequence[str | bytes], args: Sequence[Any]) -> Any:
        """EVALSHA `script` (EVAL on NOSCRIPT), sharing the trip with whatever else was
        submitted in this turn of the loop; raises what redis-py raises."""
        pending = _Pending(script, keys, args)
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append(pending)
        if len(self._pending) >= self.max_batch:
            self._flush()
        return await pending.future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _send(self, batch: list[_Pending]) -> None:
        if len(batch) == 1:
            await self._alone(batch[0])
            return
        pipe = self.client.pipeline(transaction=False)
        for item in batch:
            pipe.evalsha(item.script.sha, len(item.keys), *item.keys, *item.args)
        try:
            replies = await pipe.execute(raise_on_error=False)
        except BaseException as exc:  # the trip failed: so did every operation in it
            for item in batch:
                _fail(item, exc)
            if not isinstance(exc, Exception):
                raise
            return
        unknown: list[_Pending] = []
        for item, reply in zip(batch, replies, strict=True):
            if isinstance(reply, NoScriptError):
                unknown.append(item)  # did not run: the server lacks the script
            elif isinstance(reply, Exception):
                _fail(item, reply)
            elif not item.future.done():
                item.future.set_result(reply)
        if unknown:
            # one EVAL sends the text (and caches it); the rest go again as one batch
            await self._alone(unknown[0])
            if len(unknown) > 1:
                await self._send(unknown[1:])

    async def _alone(self, item: _Pending) -> None:
        try:
            reply = await evalsha_or_eval(self.client, item.script, item.keys, item.args)
        except BaseException as exc:
            _fail(item, exc)
            if not isinstance(exc, Exception):
                raise
            return
        if not item.future.done():
            item.future.set_result(reply)


def _fail(item: _Pending, exc: BaseException) -> None:
    if item.future.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        item.future.cancel()
    else:
        item.future.set_exception(exc)
