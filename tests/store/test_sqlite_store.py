"""The SQLite store: the shared contract, plus what is particular to SQLite."""
from __future__ import annotations

import sqlite3

import pytest

from ivr.store import StoreUnavailable, open_store
from ivr.store.sqlite import SQLiteStore
from store_contract import ExpiryContract, ForgetContract, StoreContract, new_sid, session


class TestSQLiteStore(StoreContract, ExpiryContract, ForgetContract):
    @pytest.fixture
    def store_url(self, tmp_path) -> str:
        return f"sqlite://{tmp_path}/calls.sqlite3"

    @pytest.fixture
    def expiring_url(self, tmp_path):
        return lambda ttl: f"sqlite://{tmp_path}/calls.sqlite3?finished_ttl={ttl}"


def test_a_file_from_before_expiry_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE calls (call_sid TEXT PRIMARY KEY, data TEXT NOT NULL, version INTEGER NOT NULL,"
        " flow TEXT NOT NULL DEFAULT '', node TEXT NOT NULL DEFAULT '', phase TEXT NOT NULL DEFAULT '',"
        " score REAL NOT NULL DEFAULT 0, caller TEXT NOT NULL DEFAULT '', outcome TEXT NOT NULL DEFAULT '',"
        " started_at REAL NOT NULL, updated_at REAL NOT NULL, finished INTEGER NOT NULL DEFAULT 0,"
        " finished_at REAL);"
        "INSERT INTO calls VALUES ('CAold', '{\"node\": \"main\"}', 4, 'f', 'main', 'listening', 0, '', '', 1, 1, 0, NULL);")
    db.close()
    with open_store(f"sqlite://{path}") as store:
        assert store.load("CAold").data == {"node": "main"}
        assert store.save("CAold", session(), 4) == 5


def test_the_file_is_in_wal_mode_with_the_schema(tmp_path):
    path = tmp_path / "calls.sqlite3"
    store = open_store(f"sqlite://{path}")
    store.save(new_sid(), session(), None)
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"calls", "events"} <= tables
    db.close()


def test_reopening_keeps_everything(tmp_path):
    url = f"sqlite://{tmp_path}/calls.sqlite3"
    sid = new_sid()
    with open_store(url) as store:
        store.save(sid, session(node="kept"), None)
        store.append_event(sid, {"type": "kept"})
        store.finish(sid, "contained")
    with open_store(url) as store:
        assert store.load(sid).data["node"] == "kept"
        assert store.events(sid) == [{"type": "kept"}]
        assert store.list_calls(active=False)[0]["outcome"] == "contained"


def test_a_locked_file_is_unavailable_not_a_driver_error(tmp_path):
    path = tmp_path / "calls.sqlite3"
    store = open_store(f"sqlite://{path}?busy_timeout=0.2")
    sid = new_sid()
    store.save(sid, session(), None)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
    try:
        with pytest.raises(StoreUnavailable, match="locked"):
            store.save(sid, session(node="blocked"), 1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.save(sid, session(node="free"), 1) == 2
    store.close()


def test_two_stores_on_one_file_share_a_bus(tmp_path):
    url = f"sqlite://{tmp_path}/calls.sqlite3"
    with open_store(url) as a, open_store(url) as b, open_store(f"sqlite://{tmp_path}/other.sqlite3") as c:
        assert a.bus is b.bus
        assert a.bus is not c.bus


def test_a_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="directory does not exist"):
        SQLiteStore(str(tmp_path / "nope" / "calls.sqlite3"))


def test_a_closed_store_refuses_work(tmp_path):
    store = open_store(f"sqlite://{tmp_path}/calls.sqlite3")
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.load("CA1")
