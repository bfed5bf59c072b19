"""The store's Lua scripts, and the one way a script reaches a server.

`LuaScript` is one file of `lua/` with the shared prelude (`lua/prelude.lua`: server time,
sliding windows, the operation-id memory) in front, and its SHA1. `evalsha_or_eval` is the
only place NOSCRIPT turns into EVAL; `ScriptRunner` (one script) and `ScriptBatcher` (many in
one pipeline) both go through it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from redis.exceptions import NoScriptError


@dataclass(frozen=True, slots=True)
class LuaScript:
    """One script file of `lua/`, with the shared prelude in front."""

    name: str
    script: str
    sha: str

    @classmethod
    def load(cls, name: str) -> LuaScript:
        folder = resources.files(__package__).joinpath("lua")
        prelude = folder.joinpath("prelude.lua").read_text(encoding="utf-8")
        text = prelude + "\n" + folder.joinpath(name).read_text(encoding="utf-8")
        return cls(name, text, hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest())


async def evalsha_or_eval(
    client: Any, script: LuaScript, keys: Sequence[str | bytes], args: Sequence[Any]
) -> Any:
    """EVALSHA `script`; on NOSCRIPT (a restarted or new server, SCRIPT FLUSH, a failover)
    the script did not run, so EVAL sends its text to the same node, which runs and caches
    it. (redis-py's `Script.__call__` would SCRIPT LOAD on every Cluster primary first,
    failing while any one of them is down.)"""
    try:
        return await client.evalsha(script.sha, len(keys), *keys, *args)
    except NoScriptError:
        return await client.eval(script.script, len(keys), *keys, *args)
