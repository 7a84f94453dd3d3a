"""Where the recogniser's C code runs: on the calling thread, or on a native thread pool.

Under gunicorn's gevent worker (``gunicorn.conf.py``) every connection of a worker is a
greenlet on one OS thread, and a call into Vosk (about a millisecond of C per 100 ms of
audio, more with a large grammar) would stop every other connection of the worker for
as long as it runs: webhooks, other media streams, console boards. ``run(fn, *args)``
then hands the call to a pool of real OS threads (gevent's ``ThreadPool``) and only the
calling greenlet waits; Vosk releases the GIL while it decodes, so the pool's threads
use the host's cores while the worker's greenlets go on.

Under threads (gunicorn's gthread worker, ``ivr serve``, the tests) ``run`` is a plain
call: the connection already has a thread of its own.

Rules of this file: gevent is never imported here unless the process already imported
it and patched ``threading`` (``gunicorn.conf.py`` does, before the app loads); the pool
is made on first use in the process that uses it (never inherited across a fork), with
cores / workers threads (``configure``; one per core when not configured): more would
only take cores from the workers' loops, which answer the webhooks. The threads keep the
default priority: a lower one (``nice`` +10) was tried and withdrawn. On a host shared
with other work it starved recognition (none of 239 utterances heard in
``bench/streams.py``), and a pool thread holds the GIL between two calls into Vosk, so a
low-priority thread descheduled while holding it can hold up the worker's loop too.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from ivr.native import NativePool, green

__all__ = ["configure", "green", "pool_size", "run"]

T = TypeVar("T")

_size = 0  # threads of this process's pool (0: one per core of the host)


def configure(threads: int) -> None:
    """Size this process's pool (before its first use): gunicorn's config gives each of
    its N workers cores / N threads, so that recognition on the whole host takes at most
    every core and the workers' loops still get theirs."""
    global _size
    _size = max(1, threads)


def pool_size() -> int:
    """Native threads for the recogniser in this process (``configure``, else one per core)."""
    return _size or max(1, os.cpu_count() or 1)


_pool = NativePool(pool_size)


def run(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``: on a native thread when this process is green, else right here (and
    right here on a native thread already)."""
    if not green():
        return fn(*args)
    pool = _pool.pool()
    if pool is None:
        return fn(*args)
    return pool.apply(fn, args)
