"""Leak checks: a generated code or a full phone number must not appear where it should not.

Only a record's message and its extra fields are searched: standard attributes such as
`created` or `thread` are numbers that can contain any six digits by chance.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from prometheus_client import generate_latest

PROJECT_LOGGERS = ("agent", "verification", "clinic")
_STANDARD = set(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {"message", "asctime"}


def record_text(record: logging.LogRecord) -> str:
    """The message and the extra fields of a record, as one string."""
    extras = [f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD]
    return " ".join([record.getMessage(), *extras])


def project_records(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    return [r for r in records if r.name.split(".")[0] in PROJECT_LOGGERS]


def assert_no_leak(
    records: list[logging.LogRecord], codes: set[str], phones: set[str], where: str
) -> None:
    """No project log record holds a code or a full phone number; metrics hold no code."""
    digits = {p.lstrip("+") for p in phones} | {p.lstrip("+")[1:] for p in phones}
    for record in project_records(records):
        text = record_text(record)
        for code in codes:
            assert code not in text, f"{where}: code in log {record.name}: {record.getMessage()}"
        for number in digits:
            assert number not in text, f"{where}: phone number in log {record.name}: {text}"
    # Names and labels are where a code could be written; sample values are timings and
    # counts whose digits (0.1402991...) hold any six digits by chance once enough pile up.
    exposition = generate_latest().decode()
    names_and_labels = " ".join(
        line.rpartition(" ")[0] if not line.startswith("#") else line
        for line in exposition.splitlines()
    )
    for code in codes:
        assert code not in names_and_labels, f"{where}: code in metrics"


def assert_not_said(
    texts: Iterable[str], codes: set[str], phones: set[str], where: str = "the agent"
) -> None:
    """Nothing the agent said (or showed) holds a code or a full phone number, digits read
    through spaces, dashes, dots and brackets ("415 555-0123")."""
    national = {p.lstrip("+")[1:] for p in phones}
    for text in texts:
        digits = re.sub(r"(?<=\d)[\s\-.()]+(?=\d)", "", text)
        for secret in codes | national:
            assert secret not in digits, f"{where} said {secret!r}: {text!r}"


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def captured_logs() -> Iterator[list[logging.LogRecord]]:
    """Every record logged (at DEBUG and up) while the block runs, for `assert_no_leak`
    where pytest's `caplog` is not at hand (inside a Hypothesis example)."""
    root = logging.getLogger()
    keep, level = _Keep(), root.level
    root.addHandler(keep)
    root.setLevel(logging.DEBUG)
    try:
        yield keep.records
    finally:
        root.removeHandler(keep)
        root.setLevel(level)
