"""SQLite, m0002: the patients' name keys (`clinic.schema.add_name_keys`), backfilled; and the
old `schema_version` row dropped, since the applied migrations say the version now."""

from __future__ import annotations

from typing import Any

from yoyo import step

from clinic.schema import add_name_keys

__depends__ = {"m0001_initial"}


def apply(conn: Any) -> None:
    add_name_keys(conn, "sqlite")
    conn.cursor().execute("DELETE FROM meta WHERE key = 'schema_version'")


steps = [step(apply)]
