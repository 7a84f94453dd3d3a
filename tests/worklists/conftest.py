"""Fixtures for the worklist tests: a line that takes messages and promises call backs,
on a real SQLite store and real call records (SQLite, or PostgreSQL for the tests that
ask for ``records_url``), with an agents file, Twilio's REST API and the worklist
webhook's receiver mocked with ``responses``."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import responses

for _path in (Path(__file__).resolve().parent, Path(__file__).resolve().parents[1] / "records"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from databases import records_at  # noqa: E402
from worklist_support import WorkLine, make_app  # noqa: E402

from ivr.web.services import services  # noqa: E402


@pytest.fixture
def api():
    """Twilio's servers and the worklist receiver: every outside HTTP request of a test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield mocked


@pytest.fixture
def work(tmp_path, api):
    line = WorkLine(make_app(tmp_path), api)
    yield line
    line.check()
    services(line.app).store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def records_url(request, tmp_path):
    """The URL of an empty records database of this test's own (SQLite, or a schema of its
    own on the real PostgreSQL)."""
    yield from records_at(request.param, tmp_path)


@pytest.fixture
def records(records_url):
    """Call records, opened (and migrated) as the line opens them."""
    from ivr.records import open_records

    opened = open_records(records_url, days=365)
    yield opened
    opened.close()
