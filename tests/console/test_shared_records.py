"""``store.shared``: the same contract for the SQLite file, Redis and process memory
(sliding-window counts that two writers never lose, records that expire)."""
from __future__ import annotations

import threading
import time

import pytest

from ivr.store import open_store
from ivr.store.shared import MemoryShared


@pytest.fixture(params=["memory", "sqlite", "redis"])
def shared(request, tmp_path):
    if request.param == "memory":
        yield MemoryShared()
        return
    url = f"sqlite:///{tmp_path}/s.sqlite3" if request.param == "sqlite" else request.getfixturevalue("redis_store_url")
    store = open_store(url)
    yield store.shared
    store.close()


def test_hits_count_within_the_window_only(shared):
    assert [shared.hit("k", 0.5) for _ in range(3)] == [1, 2, 3]
    assert shared.hit("other", 0.5) == 1
    time.sleep(0.6)
    assert shared.hit("k", 0.5) == 1
    shared.clear_hits("k")
    assert shared.hit("k", 0.5) == 1


def test_hits_from_many_threads_are_all_counted(shared):
    def hammer() -> None:
        for _ in range(20):
            shared.hit("busy", 60)

    threads = [threading.Thread(target=hammer) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert shared.hit("busy", 60) == 101


def test_records_expire_and_can_be_deleted(shared):
    assert shared.get("r") is None
    shared.put("r", {"agent": "alice", "n": 1}, 0.5)
    assert shared.get("r") == {"agent": "alice", "n": 1}
    shared.put("r", {"agent": "alice", "n": 2}, 0.5)
    assert shared.get("r") == {"agent": "alice", "n": 2}
    time.sleep(0.6)
    assert shared.get("r") is None
    shared.put("r", {"x": 1}, 60)
    shared.delete("r")
    assert shared.get("r") is None
    shared.delete("never")
