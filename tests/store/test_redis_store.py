"""The Redis store against a real server: the shared contract, plus expiry, key layout,
pub/sub between hosts and unreachable servers."""
from __future__ import annotations

import socket
import time

import pytest
import redis

from ivr.store import StoreUnavailable, VersionConflict, open_store
from ivr.store.redis import DEFAULT_FINISHED_TTL, RedisStore
from store_contract import ExpiryContract, ForgetContract, StoreContract, new_sid, session
from store_support import delete_prefix, require_redis


class TestRedisStore(StoreContract, ExpiryContract, ForgetContract):
    @pytest.fixture
    def store_url(self, redis_server_url, redis_prefix) -> str:
        return f"{redis_server_url}?prefix={redis_prefix}"

    @pytest.fixture
    def expiring_url(self, redis_server_url, redis_prefix):
        return lambda ttl: f"{redis_server_url}?prefix={redis_prefix}&finished_ttl={ttl}"


@pytest.fixture
def raw(redis_server_url):
    client = redis.Redis.from_url(redis_server_url, decode_responses=True)
    yield client
    client.close()


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_keys_are_namespaced(redis_server_url, raw):
    store = open_store(redis_server_url)  # the default prefix, "ivr"
    sid = new_sid()
    try:
        assert store.finished_ttl == DEFAULT_FINISHED_TTL == 86400
        store.save(sid, session(), None)
        store.append_event(sid, {"type": "started"})
        assert raw.type(f"ivr:session:{sid}") == "hash"
        assert raw.type(f"ivr:events:{sid}") == "list"
        assert raw.type(f"ivr:call:{sid}") == "hash"
        assert raw.zscore("ivr:calls", sid) is not None
        assert raw.zscore("ivr:calls:active", sid) is not None
        assert raw.ttl(f"ivr:session:{sid}") == -1  # no expiry while the call runs
        store.finish(sid, "contained")
        assert raw.zscore("ivr:calls:active", sid) is None
        assert raw.zscore("ivr:calls:finished", sid) is not None
        assert 86000 < raw.ttl(f"ivr:session:{sid}") <= 86400
        assert raw.ttl(f"ivr:events:{sid}") == -1 and raw.ttl(f"ivr:call:{sid}") == -1
    finally:
        raw.delete(f"ivr:session:{sid}", f"ivr:events:{sid}", f"ivr:call:{sid}")
        for index in ("ivr:calls", "ivr:calls:active", "ivr:calls:finished"):
            raw.zrem(index, sid)
        store.close()


def test_an_active_call_never_expires(redis_server_url, redis_prefix, raw):
    store = open_store(f"{redis_server_url}?prefix={redis_prefix}&finished_ttl=0.2")
    sid = new_sid()
    store.save(sid, session(), None)
    time.sleep(0.5)
    assert store.load(sid) is not None
    assert raw.pttl(f"{redis_prefix}:session:{sid}") == -1
    store.close()


def test_finished_ttl_none_keeps_hot_state(redis_server_url, redis_prefix, raw):
    store = open_store(f"{redis_server_url}?prefix={redis_prefix}&finished_ttl=none")
    sid = new_sid()
    store.save(sid, session(), None)
    store.finish(sid, "contained")
    assert raw.pttl(f"{redis_prefix}:session:{sid}") == -1
    store.close()


def test_pubsub_between_two_hosts(redis_server_url, redis_prefix):
    url = f"{redis_server_url}?prefix={redis_prefix}"
    console_host, call_host = open_store(url), open_store(url)
    try:
        assert console_host.bus is not call_host.bus
        with console_host.bus.subscribe("transfer:CA1", timeout=1) as events:
            call_host.bus.publish("transfer:CA1", {"type": "agent_answered", "agent": "ana"})
            call_host.bus.publish("transfer:CA1", {"type": "bridged"})
            assert list(events) == [{"type": "agent_answered", "agent": "ana"}, {"type": "bridged"}]
    finally:
        console_host.close()
        call_host.close()


def test_bus_channels_are_namespaced(redis_server_url, redis_prefix, raw):
    store = open_store(f"{redis_server_url}?prefix={redis_prefix}")
    with store.bus.subscribe("console", timeout=1):
        assert raw.pubsub_numsub(f"{redis_prefix}:bus:console") == [(f"{redis_prefix}:bus:console", 1)]
    store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_redis_is_store_unavailable():
    store = open_store(f"redis://127.0.0.1:{free_port()}/0")  # opening does not connect
    operations = [
        lambda: store.load("CA1"),
        lambda: store.save("CA1", {}, None),
        lambda: store.update("CA1", lambda current: {"n": 1}),
        lambda: store.append_event("CA1", {}),
        lambda: store.events("CA1"),
        lambda: store.finish("CA1", "error"),
        lambda: store.list_calls(),
        lambda: store.bus.publish("console", {}),
        lambda: store.bus.subscribe("console"),
    ]
    start = time.monotonic()
    for operation in operations:
        with pytest.raises(StoreUnavailable, match="127.0.0.1"):
            operation()
    assert time.monotonic() - start < 10, "unreachable Redis should fail fast"
    store.close()


def test_redis_store_rejects_a_bad_ttl():
    with pytest.raises(ValueError, match="finished_ttl"):
        RedisStore("redis://127.0.0.1:6379/15", finished_ttl=0)


def test_missing_redis_skips_locally_and_fails_in_ci(monkeypatch):
    dead = f"redis://127.0.0.1:{free_port()}/15"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not reachable"):
        require_redis(dead)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require_redis(dead)


def test_delete_prefix_only_deletes_that_prefix(redis_server_url, raw):
    raw.set("ivrtest-keepme:x", "1")
    raw.set("ivrtest-dropme:x", "1")
    try:
        delete_prefix(redis_server_url, "ivrtest-dropme")
        assert raw.exists("ivrtest-keepme:x") and not raw.exists("ivrtest-dropme:x")
    finally:
        raw.delete("ivrtest-keepme:x", "ivrtest-dropme:x")
