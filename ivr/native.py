"""Native threads for work that waits in C, under gunicorn's gevent workers.

Under the gevent worker (``gunicorn.conf.py`` patches ``threading`` before the app loads)
every connection of a worker is a greenlet on one OS thread, and C code that runs or
waits for long (Vosk decoding, sqlite3 waiting for a lock) stops them all. A
``NativePool`` is a pool of real OS threads (gevent's ``ThreadPool``) for such work; the
recogniser (``ivr.speech.native``) and the call records (``ivr.records.native``) each
keep their own, so a database that hangs never takes the threads speech needs.

Rules of this file: gevent is imported only in a process that already imported it and
patched ``threading``; a pool is made on first use in the process that uses it (never
inherited across a fork), by the thread that runs the worker's event loop. Asked from
any other thread (one of the pool's own, running work that is already off the loop),
``pool()`` is None: that work runs where it is.
"""
from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["NativePool", "green"]


def green() -> bool:
    """True in a process whose threads are gevent's greenlets (``monkey.patch_all``)."""
    if "gevent.monkey" not in sys.modules:
        return False
    from gevent import monkey  # type: ignore[import-untyped]

    return bool(monkey.is_module_patched("threading"))


class NativePool:
    """One process's gevent ``ThreadPool`` of ``size()`` threads, made on first use."""

    def __init__(self, size: Callable[[], int]) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._pool: Any = None
        self._owner = (0, 0)  # (pid, native thread id) that made the pool
        self._native_id: Callable[[], int] | None = None  # the unpatched threading.get_native_id

    def pool(self) -> Any:
        """The pool (call only when ``green()``), or None on a thread other than the one
        that made it in this process."""
        if self._native_id is None:
            from gevent import monkey

            self._native_id = monkey.get_original("threading", "get_native_id")
        here = (os.getpid(), self._native_id())
        if self._pool is None or self._owner[0] != here[0]:
            with self._lock:
                if self._pool is None or self._owner[0] != here[0]:
                    from gevent.threadpool import ThreadPool  # type: ignore[import-untyped]

                    self._pool, self._owner = ThreadPool(self._size()), here
        return self._pool if self._owner == here else None
