"""Where challenges and counters live: three protocols, an embedded SQLite store, a shared
Redis one.

Every operation is one atomic step on its store (a `BEGIN IMMEDIATE` transaction, or one Lua
script), so parallel requests and guesses are counted exactly (security rule 3). The Redis
store needs the 'redis' extra and is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import (
    BreakerStore,
    CheckResult,
    CodeStore,
    CounterStore,
    IssueResult,
    OtpStore,
    StoreUnavailable,
)
from .sqlite import SqliteOtpStore

if TYPE_CHECKING:
    from .redis import RedisOtpStore


def __getattr__(name: str) -> Any:
    if name == "RedisOtpStore":
        from .redis import RedisOtpStore

        return RedisOtpStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BreakerStore",
    "CheckResult",
    "CodeStore",
    "CounterStore",
    "IssueResult",
    "OtpStore",
    "RedisOtpStore",
    "SqliteOtpStore",
    "StoreUnavailable",
]
