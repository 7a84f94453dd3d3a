"""Fixtures for the emulator tests: the demo app, both transports, a caller."""
from __future__ import annotations

import pytest
from emulator_demo_app import AUTH_TOKEN, PUBLIC_URL, LiveServer, create_demo_app

from ivr.testing import Caller, FlaskTransport, HttpTransport


@pytest.fixture
def app():
    return create_demo_app()


@pytest.fixture(params=["flask", "http"])
def transport(request, app):
    """Each test that uses it runs twice: in-process and over real HTTP."""
    if request.param == "flask":
        yield FlaskTransport(app)
        return
    server = LiveServer(app)
    transport = HttpTransport(server.url)
    yield transport
    transport.close()
    server.stop()


@pytest.fixture
def call(transport):
    return Caller(transport, auth_token=AUTH_TOKEN, public_url=PUBLIC_URL)
