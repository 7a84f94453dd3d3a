"""Live reload of the call flows, on every host, without hurting a call.

Three ways to ask for a reload, all ending in ``FlowLibrary.reload()`` (a good file
replaces its flow for new calls; a broken one is refused and its last good version keeps
serving; live calls keep the version they began on):

* ``POST /admin/reload`` with ``Authorization: Bearer $IVR_ADMIN_TOKEN``: answers JSON
  ``{"ok", "flows": {name: version}, "problems": [{file, line, col, severity, message,
  hint, text}], "announced"}`` (status 200, or 422 when a file was refused); 401 without
  a bearer token, 403 with a wrong one or when ``IVR_ADMIN_TOKEN`` is not set, 429 (the
  token not even checked) from an address locked out for failed sign-ins (``defence.py``);
* ``SIGHUP`` (``install_sighup(app)``, done by ``ivr serve``);
* ``IVR_WATCH_FLOWS=1``: a thread polls the flows folder every ``IVR_WATCH_INTERVAL``
  seconds (names, mtimes and sizes of ``*.yaml``/``*.yml``) and reloads on a change.

A reload asked by HTTP or SIGHUP is announced on the store's bus (channel ``ivr.admin``):
every other host (or process) on the same Redis reloads too. Each process listens in a
daemon thread started with the app when the store's bus crosses processes (Redis).
Under gunicorn's ``preload_app`` the app is made once in the master: its threads are
stopped before the workers fork (``stop(wait=...)``) and each worker starts its own again,
with a reloader identity of its own (``restart()``, from ``ivr.web.forking``).

Rules of this file: a reload never waits for another. The flows are read and checked
with no lock held (``FlowLibrary.reload`` takes its own lock only to swap the result in);
one load runs at a time per app, and a reload asked while one is running is answered at
once (``running``) and done again when that load ends, so a slow or hostile file never
blocks HTTP, SIGHUP or bus reloads. A folder whose files all have the same modification
time, size and content hash as at the last load is not parsed again (``unchanged``).
Problems go to the log as ``file:line:col`` lines; a failing bus never fails a reload
(the other hosts' watchers or a later reload catch up).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from ivr.flows.library import FlowLibrary
from ivr.flows.yamlpos import LIMITS
from ivr.model.problems import Problem, format_problem
from ivr.store import LocalBus

from .services import services

log = logging.getLogger(__name__)
bp = Blueprint("admin", __name__)
ADMIN_CHANNEL = "ivr.admin"


class Reloader:
    """Reloads one app's flow library, logs the problems and tells the other hosts."""

    def __init__(self, library: FlowLibrary, store: Any, on_reload=None):
        self.library = library
        self.store = store
        self.origin = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.on_reload = on_reload
        self._state = threading.Lock()  # held only to read and write the three fields below
        self._running = False  # a load is under way
        self._again = False  # a reload was asked during it: load once more when it ends
        self._seen: tuple[Fingerprint, dict[str, Any]] | None = None  # the folder as last loaded, and the answer
        self._stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self._plans: list[Callable[[], None]] = []  # the threads to start again in a worker (``restart``)
        self._folder_at_start = fingerprint(library.directory)  # the flows as the app was made with them

    def reload(self, why: str, announce: bool = True) -> dict[str, Any]:
        """Load the flows folder again (see the rules of this file); the answer as JSON."""
        folder = fingerprint(self.library.directory)
        with self._state:
            if self._seen is not None and self._seen[0] == folder:
                log.info("flow reload (%s): no flow file changed since the last load", why)
                return {**self._seen[1], "unchanged": True, "announced": False}
            if self._running:
                self._again = True
                log.info("flow reload (%s): a load is running; it is loaded again when that one ends", why)
                return {"ok": True, "running": True, "announced": False, "problems": [],
                        "flows": {n: f.version for n, f in sorted(self.library.flows.items())}}
            self._running = True
        try:
            while True:
                result = self._load(why)
                with self._state:
                    self._seen = (folder, result)
                    if not self._again:
                        self._running = False
                        break
                    self._again = False
                why, folder = f"{why}, then changed again", fingerprint(self.library.directory)
        except BaseException:
            with self._state:
                self._running = self._again = False
            raise
        announced = self.announce(why) if announce else False
        return {**result, "announced": announced}

    def _load(self, why: str) -> dict[str, Any]:
        problems = self.library.reload()  # reads and checks with no lock held; swaps under the library's
        flows = {name: flow.version for name, flow in sorted(self.library.flows.items())}
        sources = self.library.last.sources if self.library.last else {}
        errors = [p for p in problems if p.severity == "error"]
        for problem in problems:
            log.log(logging.ERROR if problem.severity == "error" else logging.WARNING, "flow reload (%s): %s",
                    why, format_problem(problem, sources.get(problem.where.file)))
        log.info("flows reloaded (%s): %s; %d error(s), %d warning(s)", why,
                 ", ".join(f"{n}@{v}" for n, v in flows.items()) or "none", len(errors), len(problems) - len(errors))
        if self.on_reload is not None:
            self.on_reload(self.library)
        return {"ok": not errors, "flows": flows,
                "problems": [_problem_json(p, sources.get(p.where.file)) for p in problems]}

    def announce(self, why: str) -> bool:
        try:
            self.store.bus.publish(ADMIN_CHANNEL, {"type": "reload", "origin": self.origin, "why": why})
            return True
        except Exception as exc:
            log.warning("flow reload: could not tell the other hosts (%s); they reload on their own "
                        "watch, SIGHUP or /admin/reload", exc)
            return False

    # -- background threads -------------------------------------------------------------

    def listen(self) -> None:
        """Reload when another host announces a reload (daemon thread)."""
        self._plans.append(self._start_listening)
        self._start_listening()

    def _start_listening(self) -> None:
        thread = threading.Thread(target=self._listen, name="ivr-admin-bus", daemon=True)
        thread.start()
        self.threads.append(thread)

    def _listen(self) -> None:
        pause = 0.5
        while not self._stop.is_set():
            try:
                with self.store.bus.subscribe(ADMIN_CHANNEL, timeout=1.0) as subscription:
                    pause = 0.5
                    while not self._stop.is_set():
                        message = subscription.get(1.0)
                        if message and message.get("type") == "reload" and message.get("origin") != self.origin:
                            self.reload(f"announced by {message.get('origin')}: {message.get('why', '')}",
                                        announce=False)
            except Exception as exc:  # Redis restarting: try again, a little later each time
                log.warning("flow reload: the bus is unavailable (%s); retrying in %.1f s", exc, pause)
                self._stop.wait(pause)
                pause = min(pause * 2, 30.0)

    def watch(self, directory: Path, interval: float) -> None:
        """Reload when a flow file appears, changes or disappears (daemon thread)."""
        self._plans.append(lambda: self._start_watching(directory, interval))
        self._start_watching(directory, interval)

    def _start_watching(self, directory: Path, interval: float) -> None:
        thread = threading.Thread(target=self._watch, args=(Path(directory), interval), name="ivr-flow-watch",
                                  daemon=True)
        thread.start()
        self.threads.append(thread)

    def _watch(self, directory: Path, interval: float) -> None:
        seen = snapshot(directory)
        while not self._stop.wait(interval):
            now = snapshot(directory)
            if now != seen:
                # let an editor finish writing (several writes, or write-then-rename)
                self._stop.wait(min(interval, 0.2))
                seen = snapshot(directory)
                try:
                    self.reload("the flows folder changed", announce=False)
                except Exception:
                    log.exception("flow reload after a file change failed")

    def stop(self, wait: float = 0.0) -> bool:
        """Stop the listener and the watcher; with ``wait``, give them that many seconds to
        end (the listener lets go of its Redis connection). False if one is still running."""
        self._stop.set()
        deadline = time.monotonic() + wait
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.threads = [thread for thread in self.threads if thread.is_alive()]
        return not self.threads

    def restart(self) -> None:
        """In a new worker process: a reloader identity of its own (so that it hears the
        reloads the other workers announce), then the threads this reloader ran, started
        again, and the flows loaded again if the folder changed since the app was made
        (a worker started long after the master serves the folder as it is now)."""
        self.origin = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._state = threading.Lock()
        self._running = self._again = False
        self._stop = threading.Event()
        self.threads = []
        for start in self._plans:
            start()
        loaded = self._seen[0] if self._seen is not None else self._folder_at_start
        if fingerprint(self.library.directory) != loaded:
            try:
                self.reload("the flows folder changed since the app was loaded", announce=False)
            except Exception:
                log.exception("flow reload in a new worker failed; the flows loaded before it started keep serving")


Fingerprint = tuple[tuple[str, int, int, str], ...]
# The files of a flows folder a reload reads: the flows, and the line's messages beside them.
FOLDER_FILES = ("*.yaml", "*.yml", "messages/*.yaml", "messages/*.yml")


def fingerprint(directory: Path) -> Fingerprint:
    """Every flow and messages file's name, modification time, size and content hash (SHA-256). A file
    over the reader's size limit is not read: the loader refuses it by its size alone."""
    out = []
    for path in sorted(p for pattern in FOLDER_FILES for p in Path(directory).glob(pattern)):
        try:
            st = path.stat()
            digest = "" if st.st_size > LIMITS.max_bytes else hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            continue
        out.append((str(path), st.st_mtime_ns, st.st_size, digest))
    return tuple(out)


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for pattern in FOLDER_FILES:
        for path in directory.glob(pattern):
            try:
                st = path.stat()
            except OSError:
                continue
            out[str(path)] = (st.st_mtime_ns, st.st_size)
    return out


def _problem_json(problem: Problem, lines) -> dict[str, Any]:
    w = problem.where
    return {"file": w.file, "line": w.line, "col": w.col, "severity": problem.severity,
            "message": problem.message, "hint": problem.hint, "text": format_problem(problem, lines)}


# -- the endpoint ------------------------------------------------------------------------

def _authorised() -> Response | None:
    """None when the request carries the admin token; else the 401/403 answer, or 429
    (its token unchecked) while the address is locked out for failed sign-ins."""
    sign_ins = services().signatures.sign_ins
    source = request.remote_addr or "?"
    left = sign_ins.blocked_for(source)
    if left > 0:
        response = _deny(429, "too many failed sign-ins from this address; try again later")
        response.headers["Retry-After"] = str(max(1, int(left + 0.999)))
        return response
    token = services().settings.admin_token
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if not token:
        return _deny(403, "admin endpoints are disabled: set IVR_ADMIN_TOKEN (or IVR_ADMIN_TOKEN_FILE)")
    if scheme.lower() != "bearer" or not given.strip():
        response = _deny(401, "send Authorization: Bearer <IVR_ADMIN_TOKEN>")
        response.headers["WWW-Authenticate"] = 'Bearer realm="ivr-admin"'
        return response
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        log.warning("refused %s from %s: wrong admin token", request.path, request.remote_addr)
        sign_ins.failed(source, what="admin token")  # the console's lock-out: one limiter for every sign-in
        return _deny(403, "wrong admin token")
    return None


def _deny(status: int, message: str) -> Response:
    response = jsonify({"ok": False, "error": message})
    response.status_code = status
    return response


@bp.post("/admin/reload")
def reload_flows():
    denied = _authorised()
    if denied is not None:
        return denied
    result = services().reloader.reload(f"POST /admin/reload from {request.remote_addr}")
    response = jsonify(result)
    response.status_code = 202 if result.get("running") else 200 if result["ok"] else 422
    return response


def init_app(app: Flask, settings, library: FlowLibrary, store: Any) -> Reloader:
    """Register ``/admin/reload``; start the bus listener (Redis) and the file watcher (if asked)."""
    reloader = Reloader(library, store, on_reload=_remember_secrets)
    app.register_blueprint(bp)
    if not isinstance(store.bus, LocalBus):
        reloader.listen()
    if settings.watch_flows:
        reloader.watch(settings.flows_dir, settings.watch_interval)
    return reloader


def _remember_secrets(library: FlowLibrary) -> None:
    """A reloaded flow may mark new slots secret: mask them in the logs too."""
    from ivr import logs

    if logs.installed() is not None:
        logs.install(slot_names={s for flow in library.flows.values() for s in flow.secrets})


def install_sighup(app: Flask) -> bool:
    """``kill -HUP <pid>`` reloads the flows (and tells the other hosts). Main thread only."""
    if not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread():
        return False
    reloader = services(app).reloader

    def on_hup(signum, frame):  # the handler runs between bytecodes: do the work in a thread
        threading.Thread(target=reloader.reload, args=("SIGHUP",), daemon=True).start()

    signal.signal(signal.SIGHUP, on_hup)
    return True

