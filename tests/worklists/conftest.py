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
