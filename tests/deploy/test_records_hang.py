"""A records database that waits never stops a gevent worker.

gunicorn is started with the repository's gunicorn.conf.py (gevent, one worker) and the
demo line, which remembers its callers, with its call records on SQLite (the default)
or in a PostgreSQL schema of this test's own. The test then locks the records from a
connection of its own, so that writing a call's record waits on the lock: on SQLite,
the database's write lock (readers go on, as WAL lets them), held for less than the
records' busy timeout; on PostgreSQL, an exclusive lock on the calls and the callers'
memory, so that reading a profile waits too.

While the lock is held, a call ends (its record write waits on the lock), and then
``/healthz`` answers and a new caller hears the greeting, both before the lock is let
go (on PostgreSQL the new caller's memory is given up after its deadline). Once the lock
is let go, the ended call's record lands.

sqlite3 waits in C, so without ``ivr.records.native`` the worker's loop stops until the
lock is let go and both answers come only after it. psycopg (3.1 and later) waits
cooperatively under gevent; its half checks that the records' native threads serve
PostgreSQL as well.
"""
from __future__ import annotations

import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from test_gunicorn_conf import PUBLIC, ROOT, TOKEN, answering, free_port, gunicorn, line_env, stop
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(ROOT / "tests" / "records"))

from databases import postgres_admin, records_at

NUMBER = "+15005550006"  # the demo line, which remembers its callers
MEMORY_KEY = "records-hang-memory-key-0123456789"
HOLD = {"sqlite": 4.0, "postgresql": 8.0}  # seconds the test holds the lock (SQLite: below its 5 s busy timeout)


@pytest.fixture(params=["sqlite", "postgresql"])
def records_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from records_at(request.param, tmp_path)


class RecordsLock:
    """The test's own connection to the line's records, which locks them and lets go."""

    def __init__(self, url: str) -> None:
        self.kind = "sqlite" if url.startswith("sqlite:") else "postgresql"
        self.released_at = 0.0
        if self.kind == "sqlite":
            self.db: Any = sqlite3.connect(url.removeprefix("sqlite://"), timeout=10, isolation_level=None,
                                           check_same_thread=False)
        else:
            self.db = postgres_admin()
            self.db.execute(f'SET search_path TO "{url.rsplit("%3D", 1)[1]}"')

    def hold(self) -> None:
        if self.kind == "sqlite":
            self.db.execute("BEGIN IMMEDIATE")  # the write lock: a writer waits, readers go on
        else:
            self.db.execute("BEGIN")
            self.db.execute("LOCK TABLE calls, caller_memory, caller_calls IN ACCESS EXCLUSIVE MODE")

    def release(self) -> None:
        self.db.execute("ROLLBACK")
        self.released_at = time.monotonic()

    def on_record(self, sid: str) -> bool:
        return self.db.execute("SELECT count(*) FROM calls WHERE call_sid = ?" if self.kind == "sqlite" else
                               "SELECT count(*) FROM calls WHERE call_sid = %s", (sid,)).fetchone()[0] == 1

    def close(self) -> None:
        self.db.close()


def signed(base: str, path: str, form: dict[str, str]) -> requests.Response:
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, form)
    return requests.post(base + path, data=form, timeout=60,
                         headers={"X-Twilio-Signature": signature, "Connection": "close"})


def call(sid: str, status: str) -> dict[str, str]:
    return {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": "+15551230000", "To": NUMBER,
            "CallStatus": status, "Direction": "inbound"}


def test_a_waiting_records_database_stops_no_connection(tmp_path: Path, records_url: str) -> None:
    port, log = free_port(), tmp_path / "gunicorn.log"
    base = f"http://127.0.0.1:{port}"
    env = line_env(tmp_path, IVR_RECORDS_URL=records_url, IVR_MEMORY_KEY=MEMORY_KEY, PYTHONUNBUFFERED="1")
    proc = gunicorn(port, env, log, workers=1)
    lock: RecordsLock | None = None
    letting_go: threading.Timer | None = None
    try:
        answering(proc, base, log)
        lock = RecordsLock(records_url)
        ended, new = "CA" + uuid.uuid4().hex, "CA" + uuid.uuid4().hex
        reply = signed(base, "/twilio/voice", call(ended, "ringing"))
        assert reply.status_code == 200 and "welcome.wav" in reply.text, reply.text

        lock.hold()
        letting_go = threading.Timer(HOLD[lock.kind], lock.release)
        letting_go.start()
        answers: dict[str, float] = {}
        reply = signed(base, "/twilio/status", call(ended, "completed"))  # its record now waits on the lock
        answers["the webhook that ended the call"] = time.monotonic()
        assert reply.status_code == 204, reply.text
        time.sleep(0.3)
        written_under_lock = not lock.released_at and lock.on_record(ended)
        health = requests.get(base + "/healthz", timeout=60)
        answers["/healthz"] = time.monotonic()
        greeting = signed(base, "/twilio/voice", call(new, "ringing"))
        answers["a new caller"] = time.monotonic()
        letting_go.join()

        assert health.ok, health.text
        assert greeting.status_code == 200 and "welcome.wav" in greeting.text, greeting.text
        late = {what: at - lock.released_at for what, at in answers.items() if at >= lock.released_at}
        assert late == {}, "answered only after the records were let go (seconds after): " + \
            ", ".join(f"{what} {after:.1f} s" for what, after in late.items())
        assert not written_under_lock, "the record was written under the lock"
        if lock.kind == "postgresql":
            assert "this call starts without memory" in log.read_text()

        deadline = time.monotonic() + 30
        while not lock.on_record(ended):
            assert time.monotonic() < deadline, f"the ended call's record never landed\n{log.read_text()[-6000:]}"
            time.sleep(0.2)
        assert "could not be kept" not in log.read_text(), log.read_text()[-6000:]
    finally:
        if letting_go is not None:
            letting_go.cancel()
        if lock is not None:
            if not lock.released_at:
                lock.release()
            lock.close()
        stop(proc)
