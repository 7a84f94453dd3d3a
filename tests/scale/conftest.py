"""Fixtures of the scale tests: a real Redis (skipped locally, FAILED with CI=true when
it is not reachable), a flows folder with the scale line, and server processes."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_line import flow_text  # noqa: E402
from scale_support import REDIS_BASE, Server, delete_prefix, new_prefix, redis_reachable, server_env, store_url  # noqa: E402


@pytest.fixture(scope="session")
def redis_base() -> str:
    why = redis_reachable()
    if why is not None:
        message = f"Redis at {REDIS_BASE} is not reachable ({why}); set IVR_TEST_REDIS_URL"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return REDIS_BASE


@pytest.fixture
def redis_store_url(redis_base):
    """A store URL with a key prefix of this test's own, deleted afterwards."""
    prefix = new_prefix()
    yield store_url(prefix)
    delete_prefix(prefix)


@pytest.fixture
def flows_dir(tmp_path) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "scale.yaml").write_text(flow_text("version one"))
    return folder


@pytest.fixture
def servers(tmp_path, flows_dir, redis_store_url):
    """``servers(n)`` starts n server processes on one Redis; all are stopped afterwards."""
    started: list[Server] = []

    def start(n: int = 1, **extra: str) -> list[Server]:
        env = server_env(flows_dir, redis_store_url, **extra)
        batch = [Server(env, tmp_path, f"host{len(started) + i}") for i in range(n)]
        for server in batch:
            started.append(server.start())
        return batch

    start.store_url = redis_store_url
    yield start
    for server in started:
        server.stop()
