"""The callers' profiles in the records database (``ivr.records.memory``), on SQLite and
PostgreSQL, and ``ivr forget`` as ops type it: the key never is the number, one caller's
number written two ways is one caller, callbacks promised are listed while they are due,
and forgetting one caller leaves everybody else."""
from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from memory_support import MEMORY_KEY
from sqlalchemy import text

from ivr.records import open_records
from ivr.records.memory import CallerMemory, caller_key

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from cli_run import run_ivr  # noqa: E402

AT = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
ENTRY = {"topic": "order status", "slots": {"order_id": "123456"}, "outcome": "contained", "language": "en-US"}


def test_the_key_is_a_keyed_hash_of_the_number_written_any_way():
    key = caller_key("+15551230000", MEMORY_KEY)
    assert len(key) == 64 and "5551230000" not in key
    assert caller_key("+1 (555) 123-0000", MEMORY_KEY) == key  # one caller, however the number is written
    assert caller_key("+15551230000", "another-key") != key  # without the line's key, nobody is found
    assert caller_key("+15551230001", MEMORY_KEY) != key
    for withheld in ("anonymous", "Anonymous", "Restricted", "Unknown", "+266696687", "", None):
        assert caller_key(withheld, MEMORY_KEY) == ""
    assert caller_key("+15551230000", "") == ""  # no key set: memory is off


def test_callbacks_are_listed_while_due_and_a_profile_ends_with_its_retention(records_url):
    records = open_records(records_url)
    memory, key = CallerMemory(records.engine), caller_key("+15551230000", MEMORY_KEY)
    due = (AT + timedelta(hours=2)).isoformat()
    memory.remember(key, {**ENTRY, "callback_due": due}, call_sid="CA1", flow="acme-support", at=AT, retention_days=30)
    assert memory.profile(key, AT + timedelta(hours=1))["callbacks"] == [due]
    assert memory.profile(key, AT + timedelta(hours=3))["callbacks"] == []  # no longer due
    assert memory.profile(key, AT + timedelta(days=31)) == {}  # retention over: a stranger again
    assert memory.purge(AT + timedelta(days=29)) == 0 and memory.purge(AT + timedelta(days=31)) == 1
    with records.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM caller_calls")).scalar_one() == 0
    records.close()


def test_only_ten_calls_are_kept_newest_first(records_url):
    records = open_records(records_url)
    memory, key = CallerMemory(records.engine), caller_key("+15551230000", MEMORY_KEY)
    for n in range(14):
        memory.remember(key, {**ENTRY, "topic": f"topic {n}"}, call_sid=f"CA{n}", flow="acme-support",
                        at=AT + timedelta(minutes=n), retention_days=30)
    topics = [c["topic"] for c in memory.profile(key, AT + timedelta(hours=1))["calls"]]
    assert topics == [f"topic {n}" for n in range(13, 3, -1)]
    records.close()


def test_ivr_forget_finds_the_caller_by_the_lines_key_and_leaves_others(tmp_path, records_url):
    records = open_records(records_url)
    memory = CallerMemory(records.engine)
    mine, theirs = caller_key("+15551230000", MEMORY_KEY), caller_key("+15559990000", MEMORY_KEY)
    memory.remember(mine, ENTRY, call_sid="CA1", flow="acme-support", at=AT, retention_days=30)
    memory.remember(theirs, ENTRY, call_sid="CA2", flow="acme-support", at=AT, retention_days=30)
    env = {**os.environ, "IVR_RECORDS_URL": records_url, "IVR_MEMORY_KEY": MEMORY_KEY,
           "IVR_STORE": f"sqlite:///{tmp_path / 'calls.sqlite3'}", "IVR_VAR_DIR": str(tmp_path)}
    done = run_ivr("forget", "+1 555 123 0000", env=env)
    assert done.returncode == 0, done.stderr
    assert "deleted 1 caller memory profile(s)" in done.stdout
    assert memory.profile(mine, AT) == {} and memory.profile(theirs, AT)["calls"]
    done = run_ivr("forget", "anonymous", env=env)
    assert done.returncode == 0 and "withheld number: no caller memory is kept" in done.stdout
    records.close()
