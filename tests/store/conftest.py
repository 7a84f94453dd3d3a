"""Fixtures for the session store tests.

The Redis tests use a real server (``IVR_TEST_REDIS_URL``, default db 15 on localhost).
Locally they skip with a reason when it is not running; with ``CI=true`` they fail.
Each test gets its own key prefix and deletes its keys afterwards, so two test runs on
one server (other people's, in parallel) never see each other's calls.
"""
from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

# The repository root (for ``ivr``) and this folder (for the helper modules, which the
# worker processes of the concurrency tests import by name) are importable without
# installing the package.
for _path in (Path(__file__).resolve().parents[2], Path(__file__).resolve().parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from store_support import REDIS_URL, delete_prefix, require_redis  # noqa: E402


@pytest.fixture(scope="session")
def redis_server_url() -> str:
    """The base URL of a reachable Redis (skip, or fail in CI, when there is none)."""
    require_redis(REDIS_URL)
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_server_url):
    """A key prefix of this test's own, deleted afterwards."""
    prefix = f"ivrtest-{uuid.uuid4().hex[:12]}"
    yield prefix
    delete_prefix(redis_server_url, prefix)
