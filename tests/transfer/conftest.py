"""Fixtures of the transfer tests: Twilio's REST API (and any other HTTP) mocked with
``responses``; a test adds the answers it expects."""
from __future__ import annotations

import pytest
import responses


@pytest.fixture()
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps
