"""A throwaway database on a real PostgreSQL server, for one test session.

Tests never use a database someone else uses: the session creates `clinic_test_<random>` on
the server named by `TEST_POSTGRES_URL` (default: the local server, user postgres, trust
auth) and drops it at the end, so nothing a previous run left there can matter. Each test
gets a clean slate: a schema of its own (`fresh_schema`, for migration tests) or the shared,
migrated schema emptied (`truncate`), which is much faster than migrating per test.
"""

from __future__ import annotations

import os
import uuid
from typing import Any, Final
from urllib.parse import quote

import psycopg
from psycopg import sql

ADMIN_URL: Final = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES: Final = os.environ.get("REQUIRE_POSTGRES") == "1"
RECORD_TABLES: Final = (
    "appointment_events", "appointments", "patient_name_keys", "slots", "providers",
    "patients", "meta",
)  # fmt: skip


class PostgresDatabase:
    """One database of our own on the server; `drop()` removes it and everything in it."""

    def __init__(self, admin_url: str = ADMIN_URL) -> None:
        self.admin_url = admin_url
        self.name = f"clinic_test_{uuid.uuid4().hex[:12]}"
        base, _, _ = admin_url.rpartition("/")
        self._base = base

    def create(self) -> None:
        """Raises `psycopg.OperationalError` when no server answers (the caller skips)."""
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )

    def url(self, schema: str | None = None, **params: str) -> str:
        """A URL into this database; with `schema`, every connection searches only it."""
        query = dict(params)
        if schema is not None:
            query["options"] = f"-csearch_path={schema}"
        tail = "&".join(f"{k}={quote(v)}" for k, v in query.items())
        return f"{self._base}/{self.name}" + (f"?{tail}" if tail else "")

    def execute(self, query: str, params: Any = None, *, schema: str | None = None) -> None:
        with psycopg.connect(self.url(schema), autocommit=True) as conn:
            conn.execute(query, params)

    def rows(
        self, query: str, params: Any = None, *, schema: str | None = None
    ) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url(schema), autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def fresh_schema(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)).as_string())
        return name

    def drop_schema(self, name: str) -> None:
        self.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)).as_string()
        )

    def truncate(self, schema: str) -> None:
        """Empty every records table (yoyo's own tables stay: the schema stays migrated).

        DELETE rather than TRUNCATE: on tables this small it is many times faster.
        """
        with psycopg.connect(self.url(schema)) as conn:
            for table in RECORD_TABLES:
                conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(schema, table)))
