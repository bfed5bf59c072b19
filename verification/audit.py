"""The audit trail: one structured record per verification event, never a code.

Events: otp.requested, otp.sent, otp.not_on_file, otp.verified, otp.wrong_code, otp.locked,
otp.rate_limited, otp.delivery_failed (and otp.expired, otp.no_code, otp.malformed,
otp.unavailable). Each record carries `event`, a masked `phone`, a `phone_ref` (a keyed hash
that correlates one number across records without revealing it) and the `session_id`.
"""

from __future__ import annotations

import logging
from typing import Any

audit_log = logging.getLogger("verification.audit")

_WARNING_EVENTS = frozenset(
    {"otp.wrong_code", "otp.locked", "otp.rate_limited", "otp.delivery_failed", "otp.unavailable"}
)


def audit(
    event: str, *, phone: str | None, phone_ref: str | None, session_id: str, **fields: Any
) -> None:
    """Emit one audit record; `phone` must already be masked."""
    level = logging.WARNING if event in _WARNING_EVENTS else logging.INFO
    audit_log.log(
        level,
        event,
        extra={"event": event, "phone": phone, "phone_ref": phone_ref, "session_id": session_id}
        | {f"otp_{key}": value for key, value in fields.items()},
    )
