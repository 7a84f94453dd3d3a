"""Fixtures for the console tests: the demo line with alice and bob in its agents file."""
from __future__ import annotations

import pytest
from console_support import make_app

from ivr.web.services import services


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    yield app
    services(app).store.close()
