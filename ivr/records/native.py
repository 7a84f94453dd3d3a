"""Where the call records' database work runs: right here, or on native threads.

Under gunicorn's gevent worker (``gunicorn.conf.py``) every connection of a worker is a
greenlet on one OS thread. sqlite3 waits in C (for the disk, for another writer's lock
up to its busy timeout), and while it waits, no other connection of the worker moves:
webhooks, media sockets, console boards. ``run(fn, *args)`` hands such work to a few
real OS threads (gevent's ``ThreadPool``), so only the calling greenlet waits;
``run_within(seconds, fn, *args)`` also gives up waiting after ``seconds`` (a starting
call reads the caller's memory this way: the call goes on without it).

Under threads (gunicorn's gthread worker, ``ivr serve``, the CLI, the tests) ``run`` is
a plain call, and ``run_within`` runs ``fn`` on a small thread pool of this process so
that the caller can stop waiting.

Rules of this file: gevent is imported only in a process that already imported it and
patched ``threading`` (``gunicorn.conf.py`` does, before the app loads); the pools are
made on first use in the process that uses them (never inherited across a fork) and are
the records' own, apart from the recogniser's (``ivr.speech.native``), so a database
that hangs never takes the threads speech needs. A function given up on still runs to
its end when it had started (its result is dropped); one that had not started by then
is not run at all. ``run`` from one of these threads (work that is already off the
loop) is a plain call.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ivr.native import NativePool, green

__all__ = ["THREADS", "green", "run", "run_within"]

T = TypeVar("T")
THREADS = 4  # native threads per process: enough for a few slow statements at once

_lock = threading.Lock()
_green = NativePool(lambda: THREADS)  # under gevent
_threads: ThreadPoolExecutor | None = None  # run_within's pool when the process is not green
_threads_pid = 0


def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)``: on a native thread when this process is green (only the
    calling greenlet waits), else right here."""
    if not green():
        return fn(*args, **kwargs)
    pool = _green.pool()
    if pool is None:  # already on one of the pool's threads, or on another native thread
        return fn(*args, **kwargs)
    return pool.spawn(fn, *args, **kwargs).get()


def run_within(seconds: float, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)``, waited for ``seconds`` at most: ``TimeoutError`` after that
    (``fn`` may still finish on its thread; its result is then dropped)."""
    given_up = _GivenUp()
    expired = TimeoutError(f"no answer within {seconds:g} s")

    def task() -> T:
        if given_up.flag:  # waited for a thread past the deadline: nobody wants it now
            raise expired
        return fn(*args, **kwargs)

    if not green():
        future = _thread_pool().submit(task)
        try:
            return future.result(timeout=seconds)
        except TimeoutError:
            if future.done():  # fn's own TimeoutError
                raise
            given_up.flag = True
            raise expired from None
    pool = _green.pool()
    if pool is None:
        return fn(*args, **kwargs)
    from gevent import Timeout  # type: ignore[import-untyped]

    try:
        with Timeout(seconds, expired):
            return pool.spawn(task).get()
    except TimeoutError as exc:
        if exc is expired:
            given_up.flag = True
        raise


class _GivenUp:
    """Set by the caller that stopped waiting, read by a pool thread: a plain attribute
    (the GIL orders it), never one of gevent's locks across threads."""

    flag = False


def _thread_pool() -> ThreadPoolExecutor:
    global _threads, _threads_pid
    if _threads is None or _threads_pid != os.getpid():
        with _lock:
            if _threads is None or _threads_pid != os.getpid():
                _threads = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="records")
                _threads_pid = os.getpid()
    return _threads
