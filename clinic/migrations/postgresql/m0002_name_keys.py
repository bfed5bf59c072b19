"""PostgreSQL, m0002: index patients by name (`clinic.schema.add_name_keys`), so a lookup by
name reads only the records that could match; the patients on file are backfilled."""

from __future__ import annotations

from yoyo import step

from clinic.schema import add_name_keys

__depends__ = {"m0001_initial"}

steps = [step(lambda conn: add_name_keys(conn, "postgresql"))]
