"""Helpers for the store tests: Redis availability, clean-up, and worker processes.

The worker functions live here, not in a test module, so that a ``spawn``-ed process can
import them by name.
"""
from __future__ import annotations

import os
import time

import pytest

REDIS_URL = os.environ.get("IVR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require_redis(url: str) -> None:
    """Return if Redis answers at ``url``; otherwise skip, or fail when CI=true."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        reason = (
            f"Redis is not reachable at {url} ({exc}). Start it (redis-server) or set"
            " IVR_TEST_REDIS_URL."
        )
        if in_ci():
            pytest.fail(f"{reason} CI=true, so the Redis tests must run.", pytrace=False)
        pytest.skip(reason)
    finally:
        client.close()


def delete_prefix(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def increment(current):
    """An ``update`` function: count += 1, slowly enough for writers to collide."""
    data = dict(current.data) if current is not None else {"count": 0}
    time.sleep(0.0005)  # widen the read-modify-write window
    data["count"] = data.get("count", 0) + 1
    return data


def increment_worker(url: str, call_sid: str, times: int, barrier, tag: str) -> None:
    """A process that opens its own store and increments the counter ``times`` times."""
    from ivr.store import open_store

    store = open_store(url)
    try:
        barrier.wait(timeout=60)
        for i in range(times):
            store.update(call_sid, increment, retries=10_000)
            store.append_event(call_sid, {"by": tag, "i": i})
    finally:
        store.close()
