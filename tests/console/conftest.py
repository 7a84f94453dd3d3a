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


@pytest.fixture
def redis_store_url():
    """A Redis store URL with a key prefix of this test's own, deleted afterwards (skipped
    without Redis, failed with CI=true)."""
    import os
    import uuid

    import redis

    base = os.environ.get("IVR_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
    client = redis.Redis.from_url(base, socket_connect_timeout=1, socket_timeout=2)
    try:
        client.ping()
    except Exception as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis at {base} is not reachable ({exc})")
        pytest.skip(f"Redis at {base} is not reachable ({exc})")
    prefix = f"ivrconsole-{uuid.uuid4().hex[:10]}"
    yield f"{base}?prefix={prefix}"
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
