"""Opening a store from its URL, and the in-process bus on its own."""
from __future__ import annotations

import threading

import pytest

from ivr.store import LocalBus, open_store
from ivr.store.redis import RedisStore
from ivr.store.sqlite import SQLiteStore


def test_sqlite_url(tmp_path):
    with open_store(f"sqlite://{tmp_path}/calls.sqlite3") as store:
        assert isinstance(store, SQLiteStore)
        assert store.path == f"{tmp_path}/calls.sqlite3"
    with open_store(f"sqlite:///{tmp_path}/calls.sqlite3?busy_timeout=1.5") as store:
        assert store.path == f"{tmp_path}/calls.sqlite3" and store.busy_timeout == 1.5


def test_redis_url_options_are_ours_or_the_drivers():
    store = open_store("redis://127.0.0.1:6379/7?prefix=acme&finished_ttl=60&socket_timeout=3")
    assert isinstance(store, RedisStore)
    assert (store.prefix, store.finished_ttl) == ("acme", 60.0)
    kwargs = store.client.connection_pool.connection_kwargs
    assert (kwargs["db"], kwargs["socket_timeout"]) == (7, 3.0)
    store.close()


@pytest.mark.parametrize(
    "url, message",
    [
        ("postgres://localhost/ivr", "unknown session store scheme 'postgres'"),
        ("sqlit:///tmp/x.sqlite3", "did you mean 'sqlite'"),
        ("reddis://localhost", "did you mean 'redis'"),
        ("/tmp/calls.sqlite3", "no scheme"),
        ("sqlite://calls.sqlite3", "absolute file path"),
        ("sqlite:///tmp/x.sqlite3?busy_timout=3", "did you mean 'busy_timeout'"),
        ("sqlite:///tmp/x.sqlite3?busy_timeout=soon", "positive number of seconds"),
        ("redis://127.0.0.1/0?finished_ttl=-1", "positive number of seconds"),
    ],
)
def test_bad_urls_say_what_is_wrong(url, message):
    with pytest.raises(ValueError, match=message):
        open_store(url)


def test_local_bus_fans_out_across_threads():
    bus = LocalBus()
    subs = [bus.subscribe("console", timeout=2) for _ in range(3)]
    received = [[] for _ in subs]

    def read(i):
        for message in subs[i]:
            received[i].append(message)
            if len(received[i]) == 50:
                return

    readers = [threading.Thread(target=read, args=(i,)) for i in range(3)]
    for r in readers:
        r.start()
    for n in range(50):
        bus.publish("console", {"n": n})
    for r in readers:
        r.join(timeout=10)
    assert received == [[{"n": n} for n in range(50)]] * 3
    for sub in subs:
        sub.close()


def test_local_bus_messages_are_copies():
    bus = LocalBus()
    message = {"slots": {"order": "1"}}
    with bus.subscribe("c", timeout=1) as a, bus.subscribe("c", timeout=1) as b:
        bus.publish("c", message)
        got = a.get(1)
        got["slots"]["order"] = "changed"
        assert b.get(1) == {"slots": {"order": "1"}}
        assert message == {"slots": {"order": "1"}}


def test_importing_the_store_does_not_import_the_redis_driver():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = "import sys, ivr.store; print('redis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
