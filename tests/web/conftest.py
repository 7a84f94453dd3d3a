"""Fixtures for the webhook tests: the demo line on a real SQLite store, with a clock."""
from __future__ import annotations

import pytest
from web_support import OPEN, Clock, Line, make_app


@pytest.fixture
def clock():
    return Clock(OPEN)


@pytest.fixture
def line(tmp_path, clock):
    """The demo line (call_flows/). After the test, every reply any of its calls got
    must have been valid TwiML and no call may have hit a Twilio error."""
    line = Line(make_app(tmp_path, clock), clock)
    yield line
    line.check()
