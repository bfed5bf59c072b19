"""The audit trail: one structured record per verification event, never a code.

Events: otp.requested, otp.sent, otp.not_on_file, otp.verified, otp.wrong_code, otp.locked,
otp.rate_limited, otp.delivery_failed (and otp.expired, otp.no_code, otp.malformed,
otp.unavailable), and otp.phone_ceiling_reached when a per-phone ceiling fills (an attack on
that patient, perhaps). Each record carries `event`, a masked `phone`, a `phone_ref` (a keyed hash
that correlates one number across records without revealing it) and the `session_id`;
requests and guesses also carry `otp_caller_ref`, the keyed hash the caller's own limits are
kept under ("own" when the caller ID is the phone itself, "withheld" when there is none), so
an operator can see one caller number working through many phones, or many numbers working
on one phone.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Any

audit_log = logging.getLogger("verification.audit")

_WARNING_EVENTS = frozenset(
    {
        "otp.wrong_code",
        "otp.locked",
        "otp.rate_limited",
        "otp.delivery_failed",
        "otp.unavailable",
        "otp.phone_ceiling_reached",
    }
)


def audit(
    event: str, *, phone: str | None, phone_ref: str | None, session_id: str, **fields: Any
) -> None:
    """Emit one audit record; `phone` must already be masked."""
    level = logging.WARNING if event in _WARNING_EVENTS else logging.INFO
    if not audit_log.isEnabledFor(level):
        return
    extra = {"event": event, "phone": phone, "phone_ref": phone_ref, "session_id": session_id}
    for key, value in fields.items():
        extra["otp_" + key] = value
    if logging.getLogRecordFactory() is not logging.LogRecord:
        audit_log.log(level, event, extra=extra)  # someone customises records: let them
        return
    audit_log.handle(_record(level, event, extra))


_STATIC: dict[int, dict[str, Any]] = {}
_process_names: dict[int, str | None] = {}


def _record(level: int, event: str, extra: dict[str, Any]) -> logging.LogRecord:
    """The `LogRecord` that `audit_log.log(level, event, extra=extra)` would make, built
    without walking the stack for the caller (it is always this module) and from a
    per-level template: every verification attempt writes one, so it must be cheap."""
    static = _STATIC.get(level)
    if static is None:
        static = _STATIC[level] = {
            "name": audit_log.name,
            "args": (),
            "levelname": logging.getLevelName(level),
            "levelno": level,
            "pathname": __file__,
            "filename": os.path.basename(__file__),
            "module": "audit",
            "exc_info": None,
            "exc_text": None,
            "stack_info": None,
            "lineno": 0,
            "funcName": "audit",
        }
    now = time.time_ns()
    created = now / 1e9
    pid = os.getpid()
    values = dict(static)
    values.update(extra)
    values["msg"] = event
    values["created"] = created
    values["msecs"] = (now % 1_000_000_000) // 1_000_000 + 0.0
    values["relativeCreated"] = (created - getattr(logging, "_startTime", created)) * 1000
    values["thread"] = threading.get_ident()
    values["threadName"] = threading.current_thread().name
    values["process"] = pid
    values["processName"] = _process_name(pid)
    if sys.version_info >= (3, 12):  # pragma: no cover - 3.11 here
        values["taskName"] = None
    record = logging.LogRecord.__new__(logging.LogRecord)
    record.__dict__.update(values)
    return record


def _process_name(pid: int) -> str | None:
    """What LogRecord reports as processName, computed once per process (it forks)."""
    if pid not in _process_names:
        name: str | None = "MainProcess"
        mp = sys.modules.get("multiprocessing")
        if mp is not None:
            try:
                name = mp.current_process().name
            except Exception:
                name = None
        _process_names[pid] = name
    return _process_names[pid]
