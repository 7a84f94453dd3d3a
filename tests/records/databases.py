"""An empty call-records database of a test's own, on SQLite or the real PostgreSQL
(imported by name, never as ``conftest``; the record, memory and worklist tests share it).

PostgreSQL is ``IVR_TEST_POSTGRES_URL`` (default postgresql://postgres@127.0.0.1:5432/test);
each database is a schema of its own (``search_path`` in the URL), dropped afterwards, so
test runs on one server never see each other's records. Locally the PostgreSQL half skips
with a reason when no server answers; with ``CI=true`` it fails."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_URL = os.environ.get("IVR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def postgres_admin():
    """A connection to the test PostgreSQL server (skip, or fail under CI, when none answers)."""
    import psycopg

    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}".strip()
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(f"{reason} CI=true, so the PostgreSQL tests must run.", pytrace=False)
        pytest.skip(reason)


def records_at(kind: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty records database: a SQLite file in ``tmp_path`` (``kind``
    "sqlite") or a PostgreSQL schema of its own, dropped when the generator closes."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path}/records.sqlite3"
        return
    admin = postgres_admin()
    schema = f"ivrtest_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()
