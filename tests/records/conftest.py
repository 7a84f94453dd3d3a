"""Fixtures for the call-record tests: every database test runs twice, on a SQLite file
in tmp_path and on the real PostgreSQL (``IVR_TEST_POSTGRES_URL``, default
postgresql://postgres@127.0.0.1:5432/test).

On PostgreSQL each test gets a schema of its own (``search_path`` in the URL), dropped
afterwards, so test runs on one server never see each other's records. Locally the
PostgreSQL half skips with a reason when no server answers; with ``CI=true`` it fails.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

for _path in (Path(__file__).resolve().parents[2], Path(__file__).resolve().parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from databases import records_at  # noqa: E402

from ivr.records import open_records  # noqa: E402

@pytest.fixture(params=["sqlite", "postgresql"])
def records_url(request, tmp_path):
    """The URL of an empty records database of this test's own."""
    yield from records_at(request.param, tmp_path)


@pytest.fixture
def records(records_url):
    """Call records, opened (and migrated) as the line opens them."""
    opened = open_records(records_url, days=365)
    yield opened
    opened.close()
