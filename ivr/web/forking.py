"""One app per host, loaded before gunicorn forks its workers (``preload_app``).

Loading the app once in gunicorn's master means the speech models (about 500 MB each)
are loaded once per host and shared by every worker (the pages are copied only if
written, and a loaded model is only read). What must not cross a fork is let go of in
the master and made again in each worker:

* ``before_fork(app)`` (gunicorn's ``pre_fork``, in the master): the flow-reload listener
  and watcher threads and the hold sweep are stopped; the store's connections are closed
  (SQLite's of every thread, Redis's pool) while the store stays usable, and so are the
  call records' pooled database connections;
* ``after_fork(app)`` (gunicorn's ``post_worker_init``, in each worker): the store's and
  the call records' connections are forgotten (the worker opens its own on first use), the reloader takes
  an identity of its own (so that it hears the reloads the other workers announce) and
  starts its threads again, with the flows loaded again if their folder changed since
  the master loaded them; the hold sweep starts again.

Under gevent workers (``gunicorn.conf.py`` patches ``threading`` before the app loads)
those threads are greenlets and the same two functions apply. The speech models stay as
the master loaded them. Both functions may run more than once
(gunicorn calls ``pre_fork`` before each worker it starts, including a replacement).
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from .services import services

log = logging.getLogger("ivr")
SWEEPER = "ivr.hold_sweeper"  # where transfer.init_app keeps the hold sweep
STOP_WITHIN = 5.0  # seconds a thread is given to end before a fork


def before_fork(app: Flask) -> None:
    """In gunicorn's master, before a worker is forked: stop the app's threads and close
    the store's connections, so that a worker inherits neither."""
    parts = services(app)
    if not parts.reloader.stop(wait=STOP_WITHIN):
        log.warning("a flow-reload thread did not stop within %.0f s before a worker started", STOP_WITHIN)
    sweeper = app.extensions.get(SWEEPER)
    if sweeper is not None and not sweeper.stop(wait=STOP_WITHIN):
        log.warning("the hold sweep did not stop within %.0f s before a worker started", STOP_WITHIN)
    _release(parts.store)
    for engine in _records_engines(app):
        engine.dispose()  # the master's pooled connections closed; the engine opens new ones when used


def after_fork(app: Flask) -> None:
    """In each gunicorn worker, once forked: connections of its own, a reloader of its own
    with its threads running, the hold sweep running."""
    parts = services(app)
    _release(parts.store)
    for engine in _records_engines(app):
        engine.dispose(close=False)  # connections made before the fork are left to the master
    parts.reloader.restart()
    sweeper = app.extensions.get(SWEEPER)
    if sweeper is not None:
        sweeper.start()


def _records_engines(app: Flask) -> list[Any]:
    """The database engine of the call records this app writes (none when records are off)."""
    keeper = services(app).keeper
    return [] if keeper is None else [keeper.records.engine]


def _release(store: object) -> None:
    release = getattr(store, "release", None)
    if callable(release):
        release()


__all__ = ["after_fork", "before_fork"]
