"""``ivr forget NUMBER`` removes every trace of one caller: the call records and the
live-call store (its state, event logs and summaries), and nothing of anybody else."""
from __future__ import annotations

import os

from cli_run import run_ivr

from ivr.store import open_store


def test_forget_removes_the_caller_from_records_and_the_live_store(tmp_path):
    store_url = f"sqlite:///{tmp_path / 'calls.sqlite3'}"
    with open_store(store_url) as store:
        store.save("CAmine", {"caller": "+15550001111", "flow": "f", "slots": {"pin": "4321"}}, None)
        store.append_event("CAmine", {"type": "SpeechHeard", "text": "my account number is 12345678"})
        store.save("CAtheirs", {"caller": "+15550002222", "flow": "f"}, None)
    env = {**os.environ, "IVR_STORE": store_url, "IVR_RECORDS_URL": f"sqlite:///{tmp_path / 'records.sqlite3'}",
           "IVR_VAR_DIR": str(tmp_path)}
    done = run_ivr("forget", "+15550001111", env=env)
    assert done.returncode == 0, done.stderr
    assert "deleted 0 call record(s)" in done.stdout and "deleted 1 live call(s) of +15550001111" in done.stdout
    with open_store(store_url) as store:
        assert store.load("CAmine") is None and store.events("CAmine") == []
        assert [c["call_sid"] for c in store.list_calls()] == ["CAtheirs"]


def test_forget_says_what_remains_when_the_live_store_is_out_of_reach(tmp_path):
    env = {**os.environ, "IVR_STORE": "redis://127.0.0.1:1/0?socket_connect_timeout=0.5",
           "IVR_RECORDS_URL": f"sqlite:///{tmp_path / 'records.sqlite3'}", "IVR_VAR_DIR": str(tmp_path)}
    done = run_ivr("forget", "+15550001111", env=env)
    assert done.returncode == 1
    assert "its traces of +15550001111 remain" in done.stderr and "Traceback" not in done.stderr
