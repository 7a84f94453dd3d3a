"""``ivr.records.native``: the records' database work off a gevent worker's loop.

In a process patched by gevent (as gunicorn.conf.py patches its workers), work handed to
``run`` waits in C on a native thread while the worker's other greenlets go on, and
``run_within`` gives up after its deadline even though the work itself cannot be cut.
In a process of plain threads, ``run`` is a plain call and ``run_within`` still keeps
its deadline. The green half runs in a subprocess of its own, patched before anything
else is imported, like a gunicorn worker.
"""
from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time

import pytest

from ivr.records import native

GREEN = r"""
from gevent import monkey
monkey.patch_all()
import json, sqlite3, sys, tempfile, threading, time
import gevent
from ivr.records import native

ticks = []
def ticker():
    while True:
        ticks.append(time.monotonic())
        gevent.sleep(0.01)
gevent.spawn(ticker)
gevent.sleep(0.05)

# sqlite3 waits in C for another connection's write lock (its busy timeout)
path = tempfile.mkdtemp() + "/records.sqlite3"
holder = sqlite3.connect(path, isolation_level=None)
holder.execute("CREATE TABLE calls (sid TEXT)")
holder.execute("BEGIN IMMEDIATE")

def write():
    db = sqlite3.connect(path, timeout=1.5, isolation_level=None)
    try:
        db.execute("INSERT INTO calls VALUES ('CA1')")
        return "written"
    except sqlite3.OperationalError as exc:
        return str(exc)
    finally:
        db.close()

began = len(ticks)
result = native.run(write)
during_write = len(ticks) - began
main = threading.get_native_id()
where = native.run(threading.get_native_id)
nested = native.run(lambda: native.run(threading.get_native_id))

began_at = time.monotonic()
try:
    native.run_within(0.3, write)
    within = "answered"
except TimeoutError:
    within = "gave up"
waited = time.monotonic() - began_at
holder.execute("ROLLBACK")
print(json.dumps({"result": result, "ticks_during_write": during_write, "other_thread": where != main,
                  "nested_same_thread": nested != main, "within": within, "waited": waited,
                  "green": native.green()}))
"""


def test_under_gevent_the_loop_goes_on_while_the_database_waits() -> None:
    out = subprocess.run([sys.executable, "-c", GREEN], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["green"] is True
    assert found["result"] == "database is locked"  # it waited its 1.5 s busy timeout, in C
    assert found["ticks_during_write"] >= 20, found  # a greenlet ticking every 10 ms kept ticking meanwhile
    assert found["other_thread"] and found["nested_same_thread"], found
    assert found["within"] == "gave up" and found["waited"] < 1.4, found  # before the write's own 1.5 s


def test_with_threads_run_is_a_plain_call() -> None:
    assert native.green() is False
    assert native.run(threading.get_native_id) == threading.get_native_id()
    assert native.run(lambda a, b=0: a + b, 2, b=3) == 5


def test_with_threads_run_within_keeps_its_deadline_and_drops_what_is_late() -> None:
    assert native.run_within(5, lambda: "profile") == "profile"
    release = threading.Event()
    ran: list[str] = []
    began = time.monotonic()
    with pytest.raises(TimeoutError):
        native.run_within(0.2, release.wait, 30)
    assert time.monotonic() - began < 10
    blockers = [threading.Thread(target=lambda: _swallow(lambda: native.run_within(0.2, release.wait, 30)))
                for _ in range(native.THREADS)]
    for blocker in blockers:
        blocker.start()
    for blocker in blockers:
        blocker.join()
    with pytest.raises(TimeoutError):  # every thread is busy: this one waits in the queue past its deadline
        native.run_within(0.2, ran.append, "late")
    release.set()
    time.sleep(0.3)
    assert ran == []  # given up before it started: never run


def test_a_function_of_its_own_timeout_error_is_not_a_deadline() -> None:
    def refused() -> None:
        raise TimeoutError("the server said no in time")

    with pytest.raises(TimeoutError, match="the server said no"):
        native.run_within(5, refused)


def _swallow(fn) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(TimeoutError):
        fn()
