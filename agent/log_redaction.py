"""Keep personal data out of local logs in production (rule 7).

LiveKit attaches what callers said and tool arguments to its log records as `lk.pii.*` extra
fields (and only strips them from telemetry export). In `APP_ENV=production` this filter is
installed on every root handler and replaces those fields with a marker.
"""

from __future__ import annotations

import logging

REDACTED = "[redacted]"


def is_pii_field(name: str) -> bool:
    return "pii" in name.split(".")


class RedactPii(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name in [n for n in record.__dict__ if is_pii_field(n)]:
            record.__dict__[name] = REDACTED
        return True


def install_pii_redaction(logger: logging.Logger | None = None) -> RedactPii:
    """Attach one `RedactPii` to every handler of `logger` (default: root), once each.

    Filters go on handlers, not loggers: a logger's filter does not see records that
    propagate up from child loggers such as `livekit.agents`.
    """
    target = logger or logging.getLogger()
    redactor = RedactPii()
    for handler in target.handlers:
        if not any(isinstance(f, RedactPii) for f in handler.filters):
            handler.addFilter(redactor)
    return redactor
