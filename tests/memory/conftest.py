"""Fixtures for the caller-memory tests: the demo line (which remembers its callers)
with its call records on SQLite or on the real PostgreSQL (each test runs on both), and
a settable clock. Calls go through the caller emulator, signed like Twilio."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from memory_support import MEMORY_KEY, records_at  # noqa: E402
from web_support import OPEN, Clock, Line, make_app  # noqa: E402

from ivr.web.services import services  # noqa: E402


@pytest.fixture(params=["sqlite", "postgresql"])
def records_url(request, tmp_path):
    yield from records_at(request.param, tmp_path)


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
