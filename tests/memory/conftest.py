"""Fixtures for the caller-memory tests: the demo line (which remembers its callers)
with its call records on SQLite or on the real PostgreSQL (each test runs on both), and
a settable clock. Calls go through the caller emulator, signed like Twilio."""
from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for _path in (HERE.parents[1], HERE.parent / "web", HERE):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from web_support import OPEN, Clock, Line, make_app  # noqa: E402

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


@pytest.fixture(params=["sqlite", "postgresql"])
def records_url(request, tmp_path):
    """An empty records database of this test's own: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
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


@pytest.fixture
def clock():
    return Clock(OPEN)


@pytest.fixture
def line(tmp_path, clock, records_url):
    """The demo line, remembering callers under MEMORY_KEY, its records at ``records_url``."""
    line = Line(make_app(tmp_path, clock, IVR_RECORDS_URL=records_url, IVR_MEMORY_KEY=MEMORY_KEY), clock)
    yield line
    line.check()
    parts = services(line.app)
    parts.background.wait_idle()
    if parts.keeper is not None:
        parts.keeper.records.close()
    parts.store.close()


def settle(line: Line) -> None:
    """Wait until the records of ended calls (and the callers' profiles) are written."""
    services(line.app).background.wait_idle()
