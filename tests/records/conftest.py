"""Fixtures for the call-record tests: every database test runs twice, on a SQLite file
in tmp_path and on the real PostgreSQL (``IVR_TEST_POSTGRES_URL``, default
postgresql://postgres@127.0.0.1:5432/test).

On PostgreSQL each test gets a schema of its own (``search_path`` in the URL), dropped
afterwards, so test runs on one server never see each other's records. Locally the
PostgreSQL half skips with a reason when no server answers; with ``CI=true`` it fails.
"""
from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

for _path in (Path(__file__).resolve().parents[2], Path(__file__).resolve().parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from ivr.records import open_records  # noqa: E402

POSTGRES_URL = os.environ.get("IVR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres():
    import psycopg

    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}".strip()
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(f"{reason} CI=true, so the PostgreSQL tests must run.", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgresql"])
def records_url(request, tmp_path):
    """The URL of an empty records database of this test's own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/records.sqlite3"
        return
    admin = _postgres()
    schema = f"ivrtest_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture
def records(records_url):
    """Call records, opened (and migrated) as the line opens them."""
    opened = open_records(records_url, days=365)
    yield opened
    opened.close()
