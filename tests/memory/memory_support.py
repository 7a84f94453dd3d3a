"""Shared helpers of the caller-memory tests (imported by name, never as ``conftest``)."""
from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for _path in (HERE.parents[1], HERE.parent / "web", HERE.parent / "console", HERE):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from ivr.web.services import services  # noqa: E402

POSTGRES_URL = os.environ.get("IVR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
MEMORY_KEY = "test-memory-key-0123456789"


def _postgres():
    import psycopg

    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}".strip()
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(f"{reason} CI=true, so the PostgreSQL tests must run.", pytrace=False)
        pytest.skip(reason)


def records_at(kind: str, tmp_path: Path) -> Iterator[str]:
    """An empty records database of a test's own: a SQLite file, or a PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path}/records.sqlite3"
        return
    admin = _postgres()
    schema = f"ivrmem_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


def settle(app) -> None:
    """Wait until the records of ended calls (and the callers' profiles) are written."""
    services(app).background.wait_idle()
