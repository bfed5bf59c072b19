"""In production, LiveKit's lk.pii.* log fields are redacted before any handler writes them."""

from __future__ import annotations

import io
import json
import logging

from agent.log_redaction import REDACTED, RedactPii, install_pii_redaction


class _JsonHandler(logging.StreamHandler[io.StringIO]):
    """Writes every extra field, as LiveKit's JSON log formatter does."""

    def emit(self, record: logging.LogRecord) -> None:
        if self.filter(record):
            self.stream.write(json.dumps({k: str(v) for k, v in vars(record).items()}) + "\n")


def test_pii_fields_from_livekit_loggers_are_redacted_on_every_handler() -> None:
    root = logging.getLogger("redaction-test-root")
    stream = io.StringIO()
    handler = _JsonHandler(stream)
    root.addHandler(handler)
    root.propagate = False
    child = root.getChild("livekit.agents")  # records propagate from a child logger
    child.setLevel(logging.DEBUG)
    try:
        install_pii_redaction(root)
        install_pii_redaction(root)  # idempotent
        child.debug(
            "conversation_item_added",
            extra={"lk.pii.text": "my code is 402991", "lk.pii.arguments": '{"code": "402991"}',
                   "role": "user"},
        )  # fmt: skip
    finally:
        root.removeHandler(handler)
    written = stream.getvalue()
    assert "402991" not in written
    record = json.loads(written)
    assert record["lk.pii.text"] == REDACTED and record["lk.pii.arguments"] == REDACTED
    assert record["role"] == "user"  # everything else is untouched
    assert sum(isinstance(f, RedactPii) for f in handler.filters) == 1
