"""Where challenges and counters live: one protocol, an embedded SQLite store, a shared Redis one.

Every operation is one atomic step on its store (a `BEGIN IMMEDIATE` transaction, or one Lua
script), so parallel requests and guesses are counted exactly (security rule 3).
"""

from .base import CheckResult, IssueResult, OtpStore, StoreUnavailable
from .redis import RedisOtpStore
from .sqlite import SqliteOtpStore

__all__ = [
    "CheckResult",
    "IssueResult",
    "OtpStore",
    "RedisOtpStore",
    "SqliteOtpStore",
    "StoreUnavailable",
]
