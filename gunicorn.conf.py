"""Gunicorn's settings for the support line: ``gunicorn -c gunicorn.conf.py``.

What it sets, and why:

* the app ``ivr:create_app()`` on ``0.0.0.0:8080``, 2 worker processes (one per core of
  a small host) of gunicorn's gevent worker: every connection is a greenlet, so a media
  socket or a console board that stays open for minutes takes no request thread, and
  webhooks are answered beside hundreds of them (up to ``worker_connections`` = 1000
  connections per worker). The recogniser's C code runs on a native thread pool (cores /
  workers threads in each worker, ``ivr.speech.native``), never on a worker's event loop. gevent
  replaces ``threading``, ``socket``, ``queue`` and ``time.sleep`` (``monkey.patch_all``)
  here, before the app is loaded, so that the app's locks, queues and threads are
  gevent's from the start. ``-k gthread`` (or ``--worker-class gthread`` in
  ``GUNICORN_CMD_ARGS``) gives the former model, 16 threads per worker, where each open
  socket or board holds one of them; nothing is patched then. ``--bind``, ``--workers``
  and ``--threads`` on the command line (or in ``GUNICORN_CMD_ARGS``) win over this file;
* logs on stderr with a time, a level and the call: INFO kept, one access-log line per
  request with its CallSid (``ivr.web.requestlog``), e.g.
  ``2026-03-04 15:00:00,123 INFO gunicorn.access [4242] call=CA0f... 10.0.0.5 "POST
  /twilio/step?node=main&seq=1 HTTP/1.1" 200 512 4ms``;
* start refused with more than one worker and no ``IVR_SECRET_KEY``: each process would
  make up its own key and a console sign-in made on one worker would be unknown to the
  other (``on_starting``);
* a warning when several workers share the SQLite store: its bus is in-process, so the
  live board of one worker misses calls answered by another (use Redis);
* the app is loaded once, before the workers fork (``preload_app``: one copy of each
  speech model per host, shared by every worker), when ``ivr.web.app`` offers
  ``after_fork(app)`` to make again in each worker what does not cross a fork (the store's
  connections, the flow-reload listener and watcher threads, a reloader identity of its
  own, the hold sweep) and, optionally, ``before_fork(app)`` to stop those threads and
  close the store's connections in the master first (``ivr.web.forking``); without
  ``after_fork``, each worker loads the app itself.

docs/DEPLOY.md explains the recipe; tests/deploy checks these hooks.
"""
from __future__ import annotations

import importlib
import logging
import os
import shlex
import sys
from typing import Any

GREEN = "gevent"  # the worker class of this recipe (see the module's docstring)
_BY_GUNICORN = "gunicorn" in os.path.basename(sys.argv[0]) or sys.argv[0].endswith("gunicorn/__main__.py")


def _chosen_worker_class() -> str:
    """The worker class gunicorn will run: ``-k``/``--worker-class`` on its command line
    (or in ``GUNICORN_CMD_ARGS``) wins over this file's."""
    if not _BY_GUNICORN:
        return GREEN  # read by something other than gunicorn: nothing to decide here
    from gunicorn.config import Config

    parser, chosen = Config().parser(), GREEN
    for args in (shlex.split(os.environ.get("GUNICORN_CMD_ARGS", "")), sys.argv[1:]):
        try:
            found, _ = parser.parse_known_args(args)
        except SystemExit:  # gunicorn itself says what is wrong with its arguments
            continue
        chosen = found.worker_class or chosen
    return str(chosen)


wsgi_app = "ivr:create_app()"
bind = ["0.0.0.0:8080"]
worker_class = _chosen_worker_class()
if _BY_GUNICORN and worker_class in (GREEN, "gunicorn.workers.ggevent.GeventWorker"):
    try:
        from gevent import monkey
    except ImportError as missing:
        raise SystemExit(f"gunicorn.conf.py runs gevent workers, and gevent cannot be imported ({missing}): install "
                         "the locked dependencies (pip install --require-hashes -r requirements/run.txt), or start "
                         "the former model with -k gthread") from None

    monkey.patch_all()  # before the app (and its locks, queues, threads) is loaded in this master
    # The recogniser's native threads (ivr.speech.native) need the GIL back after every
    # call into Vosk, and a busy event loop gives it up only every switch interval (5 ms
    # by default): with many open streams that wait, not the CPU, bounded recognition.
    # Measured with bench/streams.py (100 streams, 10 speaking, 20 boards): recognition lag
    # p50 11.5 s at 5 ms, 3.9 s at 0.5 ms; webhook p99 188 and 120 ms.
    sys.setswitchinterval(0.0005)
workers = 2
worker_connections = 1000  # gevent: connections one worker holds at once (media sockets, boards, webhooks)
threads = 16  # gthread only (-k gthread): each open media socket or board holds one
keepalive = 5  # behind a proxy that keeps connections open (deploy/nginx.conf)
timeout = 30
graceful_timeout = 30
control_socket_disable = True  # nothing here uses gunicorn's control socket; several servers may share a host


def _after_fork_available() -> bool:
    try:
        return callable(getattr(importlib.import_module("ivr.web.app"), "after_fork", None))
    except Exception:  # the app itself reports its import errors when it loads
        return False


preload_app = _after_fork_available()

# -- logging ---------------------------------------------------------------------------

loglevel = "info"
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] call=%(call_sid)s %(message)s"
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"call": {"()": "ivr.web.requestlog.CallSidFilter"}},
    "formatters": {"line": {"format": _FORMAT}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "line",
                   "filters": ["call"]},
    },
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
    },
}


# -- hooks -----------------------------------------------------------------------------

def on_starting(server: Any) -> None:
    """Refuse a start that would break console sign-ins; warn when console events stay in one process."""
    from ivr.settings import load_settings

    settings = load_settings()
    count = server.cfg.workers
    if count > 1 and settings.secret_key_is_random:
        raise RuntimeError(
            f"{count} workers and no IVR_SECRET_KEY: each worker would make up its own key, and an agent signed in "
            "on one worker would be signed out by the next request that reaches another. Set IVR_SECRET_KEY (or "
            "IVR_SECRET_KEY_FILE) to a long random value: python -c 'import secrets; print(secrets.token_hex(32))'"
            ", or start one worker (--workers 1).")
    if count > 1 and settings.store_url.startswith("sqlite:"):
        server.log.warning(
            "%d workers share the SQLite store, whose event bus is in-process: an agent console on one worker "
            "does not see calls answered by another, and a flow reload asked of one worker is not announced to "
            "the others. Set IVR_STORE=redis://HOST:6379/0 (the console's events then go through Redis), or "
            "start one worker (--workers 1: with gevent it holds every connection of the host).", count)


def worker_class_of(worker: Any) -> str:
    return GREEN if type(worker).__module__.endswith("ggevent") else "other"


def pre_fork(server: Any, worker: Any) -> None:
    """In the master, before each fork of a preloaded app: ``ivr.web.app.before_fork`` (when
    the app offers it) lets go of what a worker must not inherit (the store's open
    connections, running threads)."""
    if server.cfg.preload_app:
        before_fork = getattr(importlib.import_module("ivr.web.app"), "before_fork", None)
        if callable(before_fork):
            before_fork(server.app.wsgi())


def post_worker_init(worker: Any) -> None:
    """In each worker, once its app is loaded: the CallSid in every log line, and what
    must be redone after a fork (``ivr.web.app.after_fork``, when the app offers it)."""
    from ivr.web import requestlog

    app = worker.wsgi
    requestlog.install(app)
    if worker_class_of(worker) == GREEN:  # recognition's native threads: the host's cores shared by the workers
        from ivr.speech import native

        native.configure((os.cpu_count() or 1) // max(1, worker.cfg.workers))
    if worker.cfg.preload_app:
        after_fork = getattr(importlib.import_module("ivr.web.app"), "after_fork", None)
        if callable(after_fork):
            after_fork(app)


logging.captureWarnings(True)
