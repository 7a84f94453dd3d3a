"""The SQLite session store: the embedded default for a single host.

Rules of this file:

* One connection per OS thread (``_per_thread()``: under gevent's workers, whose
  ``threading.local`` is per greenlet, the greenlets of a worker share its one
  connection: no statement or transaction here ever yields), in autocommit mode, so every
  statement below is its own transaction. The versioned save is ONE statement
  (``UPDATE ... WHERE version = ?`` and a rowcount check; ``INSERT`` for create, the
  primary key refusing a second one): no read-then-write window, hence no lost update,
  across threads and across processes on the same file. A save with events is that
  statement and the events' inserts in one ``BEGIN IMMEDIATE`` transaction: one commit
  for a call's step, and never a step without its event or an event without its step.
* WAL journal (readers never block the writer) and ``busy_timeout`` (a writer waits for
  another process's write instead of failing). A lock still held after the timeout, or
  a file that cannot be opened, is ``StoreUnavailable``.
* Durability: ``synchronous = NORMAL`` in WAL mode. A committed step is in the WAL file
  when the request answers, so it survives the crash or kill of any worker process; a
  crash of the whole machine (power, kernel) may lose the last steps before a checkpoint,
  never the file's consistency. ``FULL`` would add an fsync to every step.
* The hot state of a finished call expires ``finished_ttl`` seconds after ``finish``
  (and after any save once finished), as with Redis: ``expires_at`` holds the moment,
  ``data`` becomes '' (the summary and the event log stay). Expiry is applied when a
  call is read or written and swept at most once a minute; a call created again after
  it expired continues from its last version, so a stale writer never matches.
* Times are Unix seconds from this host's clock.
* ``release()`` closes the connections this process opened and forgets them; the store
  stays open and the next use opens fresh ones. gunicorn's master calls it before it
  forks its workers (a SQLite connection must not cross a fork), and a connection found
  to belong to another process (made before a fork) is dropped, never used.
* The bus is in-process (``LocalBus``): SQLite means one host, and here one process.
* ``shared`` (``SQLiteShared``) keeps its counts and records in two tables of the same
  file, so every worker process of the host sees them; a hit is one ``BEGIN IMMEDIATE``
  transaction (insert, trim the window, count), so two processes never lose a count.
"""
from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from .base import SessionStore, Stored, StoreUnavailable, VersionConflict, dump_json, summary_fields
from .bus import Bus, LocalBus
from .presence import Presence
from .shared import Shared

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    call_sid    TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    flow        TEXT NOT NULL DEFAULT '',
    node        TEXT NOT NULL DEFAULT '',
    phase       TEXT NOT NULL DEFAULT '',
    score       REAL NOT NULL DEFAULT 0,
    caller      TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL DEFAULT '',
    started_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    finished    INTEGER NOT NULL DEFAULT 0,
    finished_at REAL,
    expires_at  REAL
);
CREATE INDEX IF NOT EXISTS calls_by_start ON calls (finished, started_at);
CREATE TABLE IF NOT EXISTS events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    call_sid TEXT NOT NULL,
    at       REAL NOT NULL,
    event    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_call ON events (call_sid, id);
CREATE TABLE IF NOT EXISTS shared_hits (
    key TEXT NOT NULL,
    at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS shared_hits_by_key ON shared_hits (key, at);
CREATE TABLE IF NOT EXISTS shared_records (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""

DEFAULT_FINISHED_TTL = 24 * 3600.0
_SWEEP_EVERY = 60.0

# One LocalBus per database file per process, so that two store objects opened on the
# same file (say, the webhooks' and the console's) talk to each other.
_buses: dict[str, LocalBus] = {}
_buses_lock = threading.Lock()

_SUMMARY_COLUMNS = (
    "call_sid, flow, node, phase, score, caller, outcome,"
    " started_at, updated_at, finished, finished_at, version"
)

# The messages of sqlite3.OperationalError that mean "try again later", not a bug here.
_TRANSIENT = ("locked", "busy", "unable to open", "disk i/o", "readonly", "no space")


def _per_thread() -> threading.local:
    """Storage per OS thread. Under gevent's monkey patching ``threading.local`` is per
    greenlet: a connection per request, each left open until the process ends."""
    if "gevent.monkey" in sys.modules:
        from gevent import monkey  # type: ignore[import-untyped]

        if monkey.is_module_patched("threading"):
            return monkey.get_original("threading", "local")()
    return threading.local()


class SQLiteStore(SessionStore):
    """A store in one SQLite file; safe for several threads and processes on one host."""

    def __init__(self, path: str, *, busy_timeout: float = 5.0,
                 finished_ttl: float | None = DEFAULT_FINISHED_TTL):
        if path == ":memory:" or not path:
            raise ValueError("an in-memory SQLite store is not shared between threads; use a file")
        if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise ValueError(
                f"cannot create the session store {path!r}: its directory does not exist"
                " (create it, or point the store URL elsewhere)"
            )
        if finished_ttl is not None and finished_ttl <= 0:
            raise ValueError(f"finished_ttl must be a positive number of seconds or None, not {finished_ttl!r}")
        self.path = path
        self.busy_timeout = busy_timeout
        self.finished_ttl = finished_ttl
        self._swept = 0.0
        self._local = _per_thread()
        self._all: list[tuple[sqlite3.Connection, threading.RLock]] = []  # every thread's, with its in-use lock
        self._all_lock = threading.Lock()
        self._bus: LocalBus | None = None
        self._shared: SQLiteShared | None = None
        self._closed = False
        self._pid = os.getpid()  # the process that owns the connections in _all
        with self._db() as db:
            db.executescript(SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(calls)")}
            if "expires_at" not in columns:  # a file made before hot state expired
                db.execute("ALTER TABLE calls ADD COLUMN expires_at REAL")
            db.execute("CREATE INDEX IF NOT EXISTS calls_by_expiry ON calls (expires_at)")

    # -- connections ------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("the session store is closed")
        if self._pid != os.getpid():  # made before a fork: the parent's connections are not ours to use
            self._forget()
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,  # autocommit: each statement is a transaction
                check_same_thread=False,  # only so that close() may close it
            )
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            self._local.db = db
            self._local.busy = threading.RLock()
            with self._all_lock:
                self._all.append((db, self._local.busy))
        return db

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = self._connect()
        try:
            with self._local.busy:  # close() from another thread waits until this use is over
                if self._closed:
                    raise RuntimeError("the session store is closed")
                yield db
        except sqlite3.OperationalError as exc:
            if any(word in str(exc).lower() for word in _TRANSIENT):
                raise StoreUnavailable(f"SQLite store {self.path}: {exc}") from exc
            raise

    # -- hot state --------------------------------------------------------------------

    def load(self, call_sid: str) -> Stored | None:
        with self._db() as db:
            row = db.execute(
                "SELECT data, version, expires_at FROM calls WHERE call_sid = ?", (call_sid,)
            ).fetchone()
            if row is not None and row[2] is not None and row[2] <= time.time():
                self._expire(db, call_sid)
                return None
        if row is None or not row[0]:
            return None
        return Stored(data=json.loads(row[0]), version=row[1])

    def _expire(self, db: sqlite3.Connection, call_sid: str | None = None) -> None:
        """Drop the hot state of finished calls whose time is up (one call, or all)."""
        now = time.time()
        if call_sid is None:
            self._swept = now
            db.execute("UPDATE calls SET data = '', expires_at = NULL WHERE expires_at <= ?", (now,))
        else:
            db.execute("UPDATE calls SET data = '', expires_at = NULL WHERE call_sid = ? AND expires_at <= ?",
                       (call_sid, now))

    def _expiry(self, now: float) -> float | None:
        return None if self.finished_ttl is None else now + self.finished_ttl

    def save(self, call_sid: str, data: dict, expected_version: int | None, events: Sequence[dict] = ()) -> int:
        text = dump_json(data)
        fields = summary_fields(data)
        logged = [dump_json(event, "event") for event in events]
        now = time.time()
        with self._db() as db:
            if not logged:  # one statement: its own transaction
                return self._save(db, call_sid, text, fields, expected_version, now)
            db.execute("BEGIN IMMEDIATE")  # the save and its events: one transaction, one commit
            try:
                version = self._save(db, call_sid, text, fields, expected_version, now)
                db.executemany("INSERT INTO events (call_sid, at, event) VALUES (?, ?, ?)",
                               [(call_sid, now, event) for event in logged])
            except BaseException:
                if db.in_transaction:  # SQLite may have rolled back already (a full disk, an I/O error)
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return version

    def _save(self, db: sqlite3.Connection, call_sid: str, text: str, fields: dict, expected_version: int | None,
              now: float) -> int:
        if now - self._swept > _SWEEP_EVERY:
            self._expire(db)
        if expected_version is None:
            try:
                db.execute(
                    "INSERT INTO calls (call_sid, data, version, flow, node, phase, score,"
                    " caller, outcome, started_at, updated_at)"
                    " VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (call_sid, text, fields["flow"], fields["node"], fields["phase"],
                     fields["score"], fields["caller"], fields["outcome"], now, now),
                )
            except sqlite3.IntegrityError:
                # the call has a row: created again after its hot state expired (perhaps not
                # yet swept), continue from its version; a live one is a conflict
                self._expire(db, call_sid)
                row = db.execute(
                    "UPDATE calls SET data = ?, version = version + 1, flow = ?, node = ?, phase = ?,"
                    " score = ?, caller = ?, updated_at = ?,"
                    " expires_at = CASE WHEN finished THEN ? ELSE NULL END"
                    " WHERE call_sid = ? AND data = '' RETURNING version",
                    (text, fields["flow"], fields["node"], fields["phase"], fields["score"],
                     fields["caller"], now, self._expiry(now), call_sid),
                ).fetchone()
                if row is None:
                    raise VersionConflict(call_sid, None, self._version(db, call_sid)) from None
                return int(row[0])
            return 1
        cursor = db.execute(
            "UPDATE calls SET data = ?, version = version + 1, flow = ?, node = ?,"
            " phase = ?, score = ?, caller = ?,"
            " outcome = CASE WHEN finished THEN outcome ELSE ? END, updated_at = ?,"
            " expires_at = CASE WHEN finished THEN ? ELSE NULL END"
            " WHERE call_sid = ? AND version = ? AND data != ''",
            (text, fields["flow"], fields["node"], fields["phase"], fields["score"],
             fields["caller"], fields["outcome"], now, self._expiry(now), call_sid, expected_version),
        )
        if cursor.rowcount != 1:
            raise VersionConflict(call_sid, expected_version, self._version(db, call_sid))
        return expected_version + 1

    @staticmethod
    def _version(db: sqlite3.Connection, call_sid: str) -> int | None:
        row = db.execute("SELECT version, data FROM calls WHERE call_sid = ?", (call_sid,)).fetchone()
        return None if row is None or not row[1] else row[0]

    # -- event log --------------------------------------------------------------------

    def append_event(self, call_sid: str, event: dict) -> None:
        text = dump_json(event, "event")
        with self._db() as db:
            db.execute(
                "INSERT INTO events (call_sid, at, event) VALUES (?, ?, ?)",
                (call_sid, time.time(), text),
            )

    def events(self, call_sid: str) -> list[dict]:
        with self._db() as db:
            rows = db.execute(
                "SELECT event FROM events WHERE call_sid = ? ORDER BY id", (call_sid,)
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    # -- summaries --------------------------------------------------------------------

    def finish(self, call_sid: str, outcome: str) -> None:
        now = time.time()
        with self._db() as db:
            db.execute(
                "UPDATE calls SET finished = 1, outcome = ?, updated_at = ?,"
                " finished_at = COALESCE(finished_at, ?),"
                " expires_at = CASE WHEN data = '' THEN NULL ELSE ? END WHERE call_sid = ?",
                (outcome, now, now, self._expiry(now), call_sid),
            )

    def forget_caller(self, caller: str) -> int:
        with self._db() as db:
            sids = [row[0] for row in db.execute("SELECT call_sid FROM calls WHERE caller = ?", (caller,))]
            for sid in sids:
                db.execute("DELETE FROM events WHERE call_sid = ?", (sid,))
                db.execute("DELETE FROM calls WHERE call_sid = ?", (sid,))
        return len(sids)

    def list_calls(self, *, active: bool | None = None, limit: int = 50) -> list[dict]:
        where = "" if active is None else f"WHERE finished = {0 if active else 1}"
        with self._db() as db:
            rows = db.execute(
                f"SELECT {_SUMMARY_COLUMNS} FROM calls {where}"
                " ORDER BY started_at DESC, rowid DESC LIMIT ?",
                (max(0, limit),),
            ).fetchall()
        return [
            {
                "call_sid": r[0], "flow": r[1], "node": r[2], "phase": r[3],
                "score": float(r[4]), "caller": r[5], "outcome": r[6],
                "started_at": r[7], "updated_at": r[8], "finished": bool(r[9]),
                "finished_at": r[10], "version": r[11],
            }
            for r in rows
        ]

    # -- the rest ---------------------------------------------------------------------

    @property
    def bus(self) -> Bus:
        """An in-process bus, shared by every store opened on this file in this process.

        It does not cross processes: with several worker processes, use Redis.
        """
        if self._bus is None:
            key = os.path.realpath(self.path)
            with _buses_lock:
                self._bus = _buses.setdefault(key, LocalBus())
        return self._bus

    @property
    def shared(self) -> Shared:
        """Counts and records in this file: every process on the host sees them."""
        if self._shared is None:
            self._shared = SQLiteShared(self)
        return self._shared

    @property
    def presence(self) -> Presence:
        """Agents' presence in this store (``presence.SQLitePresence``), made once."""
        found = self.__dict__.get("_presence")
        if found is None:
            from .presence import SQLitePresence

            found = self.__dict__.setdefault("_presence", SQLitePresence(self))
        return found

    def release(self) -> None:
        """Close the connections this process opened (every thread's) and forget them: the
        store stays usable and its next use opens a fresh connection. For a process about
        to fork (gunicorn's master before its workers), or one that has just forked."""
        with self._all_lock:
            connections, self._all = self._all, []
            inherited = self._pid != os.getpid()
            self._pid = os.getpid()
            self._local = _per_thread()
        if not inherited:  # a connection made by the parent is left to the parent
            _close_all(connections)

    def _forget(self) -> None:
        with self._all_lock:
            if self._pid != os.getpid():
                self._all = []
                self._local = _per_thread()
                self._pid = os.getpid()

    @property
    def closed(self) -> bool:
        """The store was closed (the app is shutting down): background work stops."""
        return self._closed

    def close(self) -> None:
        self._closed = True
        with self._all_lock:
            connections, self._all = self._all, []
        _close_all(connections)

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"


def _close_all(connections: list[tuple[sqlite3.Connection, threading.RLock]]) -> None:
    """Close each connection once its thread is done with it: sqlite3 crashes the process
    when a connection is closed under a statement another thread is running."""
    for db, busy in connections:
        with busy:
            db.close()


class SQLiteShared(Shared):
    """``Shared`` in the store's file (tables ``shared_hits`` and ``shared_records``)."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self._swept = 0.0

    def hit(self, key: str, window: float) -> int:
        now = time.time()
        with self.store._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("INSERT INTO shared_hits (key, at) VALUES (?, ?)", (key, now))
                db.execute("DELETE FROM shared_hits WHERE key = ? AND at <= ?", (key, now - window))
                count = db.execute("SELECT COUNT(*) FROM shared_hits WHERE key = ?", (key,)).fetchone()[0]
                if now - self._swept > _SWEEP_EVERY:  # keys nobody hits any more
                    self._swept = now
                    db.execute("DELETE FROM shared_hits WHERE at <= ?", (now - 86400.0,))
                    db.execute("DELETE FROM shared_records WHERE expires_at <= ?", (now,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return int(count)

    def clear_hits(self, key: str) -> None:
        with self.store._db() as db:
            db.execute("DELETE FROM shared_hits WHERE key = ?", (key,))

    def get(self, key: str) -> dict | None:
        with self.store._db() as db:
            row = db.execute("SELECT value FROM shared_records WHERE key = ? AND expires_at > ?",
                             (key, time.time())).fetchone()
        return json.loads(row[0]) if row is not None else None

    def put(self, key: str, value: dict, ttl: float) -> None:
        text = dump_json(value, "value")
        with self.store._db() as db:
            db.execute("INSERT INTO shared_records (key, value, expires_at) VALUES (?, ?, ?)"
                       " ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                       (key, text, time.time() + ttl))

    def delete(self, key: str) -> None:
        with self.store._db() as db:
            db.execute("DELETE FROM shared_records WHERE key = ?", (key,))
