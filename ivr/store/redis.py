"""The Redis session store: for several hosts serving one number.

Keys (``<p>`` is the prefix, ``ivr`` by default):

* ``<p>:session:<sid>``  hash ``data`` (JSON), ``version``: the hot state; expires
  ``finished_ttl`` seconds after ``finish`` (and after any save once finished);
* ``<p>:events:<sid>``   list of JSON events, kept;
* ``<p>:call:<sid>``     hash: the summary (flow, node, phase, score, caller, outcome,
  started_at, updated_at, finished, finished_at, version), kept;
* ``<p>:calls``, ``<p>:calls:active``, ``<p>:calls:finished``  sorted sets of call sids
  scored by start time, for ``list_calls``;
* ``<p>:bus:<channel>``  pub/sub channels of ``RedisBus``;
* ``<p>:shared:hits:<key>`` sorted sets and ``<p>:shared:record:<key>`` strings (JSON,
  with an expiry) of ``RedisShared``: the counts and records every host shares.

Rules of this file: every write that touches more than one key is one Lua script, so it
is atomic (the versioned save compares and writes in one step: no lost update between
hosts). Times come from the Redis server's clock (``TIME``), one clock for all hosts.
The version continues from the summary when an expired call is created again, so a
stale writer can never match a recycled version. The driver is imported when a store
is opened, and its connection errors become ``StoreUnavailable``; the driver retries a
failed command once at most (a stale pooled socket) and the caller decides the rest.
Not for Redis Cluster (the scripts touch keys in several slots).
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from .base import SessionStore, Stored, StoreUnavailable, VersionConflict, dump_json, summary_fields
from .bus import Bus, Subscription
from .presence import Presence
from .shared import Shared

# KEYS: session, call, calls, active, events. ARGV: sid, data, expected ('' = create),
# flow, node, phase, score, caller, outcome, finished_ttl_ms ('' = keep), then the events
# to append to the call's log with the write (none or more).
# Returns {1, new_version} or {0, actual_version (-1 = none)}.
_SAVE = """
local cur = redis.call('HGET', KEYS[1], 'version')
if ARGV[3] == '' then
  if cur then return {0, tonumber(cur)} end
elseif cur ~= ARGV[3] then
  if cur then return {0, tonumber(cur)} end
  return {0, -1}
end
local version
if cur then
  version = tonumber(cur) + 1
else
  version = (tonumber(redis.call('HGET', KEYS[2], 'version')) or 0) + 1
end
local t = redis.call('TIME')
local now = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'version', tostring(version))
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('HSET', KEYS[2], 'call_sid', ARGV[1], 'started_at', now, 'finished', '0')
  redis.call('ZADD', KEYS[3], now, ARGV[1])
  redis.call('ZADD', KEYS[4], now, ARGV[1])
end
redis.call('HSET', KEYS[2], 'flow', ARGV[4], 'node', ARGV[5], 'phase', ARGV[6],
  'score', ARGV[7], 'caller', ARGV[8], 'updated_at', now, 'version', tostring(version))
if redis.call('HGET', KEYS[2], 'finished') == '1' then
  if ARGV[10] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[10]) end
else
  redis.call('HSET', KEYS[2], 'outcome', ARGV[9])
end
if #ARGV > 10 then
  redis.call('RPUSH', KEYS[5], unpack(ARGV, 11))
end
return {1, version}
"""

# KEYS: session, call, active, finished. ARGV: sid, outcome, finished_ttl_ms ('' = keep).
_FINISH = """
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
local t = redis.call('TIME')
local now = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
if redis.call('HGET', KEYS[2], 'finished') ~= '1' then
  redis.call('HSET', KEYS[2], 'finished', '1', 'finished_at', now)
end
redis.call('HSET', KEYS[2], 'outcome', ARGV[2], 'updated_at', now)
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], redis.call('HGET', KEYS[2], 'started_at'), ARGV[1])
if ARGV[3] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
"""

DEFAULT_FINISHED_TTL = 24 * 3600.0

# KEYS: the hits. ARGV: window (seconds), a unique member. One hit now (the server's
# clock); returns the hits within the window.
_HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) * 1000))
return redis.call('ZCARD', KEYS[1])
"""


class RedisStore(SessionStore):
    """A store in Redis, shared by every host; ``url`` as ``redis://host:port/db``.

    ``finished_ttl``: seconds the hot state of a finished call is kept (``None``: kept
    for ever); events and summaries are always kept. ``prefix`` namespaces every key.
    Extra keyword arguments go to ``redis.Redis.from_url`` (timeouts, TLS, ...).
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "ivr",
        finished_ttl: float | None = DEFAULT_FINISHED_TTL,
        **redis_options: Any,
    ):
        import redis  # the driver, imported only when a Redis store is opened
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        if finished_ttl is not None and finished_ttl <= 0:
            raise ValueError(
                f"finished_ttl must be a positive number of seconds or None, not {finished_ttl!r}"
            )
        self.prefix = prefix
        self.finished_ttl = finished_ttl
        redis_options.setdefault("socket_connect_timeout", 2.0)
        redis_options.setdefault("socket_timeout", 5.0)
        redis_options.setdefault("retry", Retry(NoBackoff(), 1))
        self.url = url
        self.client = redis.Redis.from_url(url, decode_responses=True, **redis_options)
        self._transient = (
            redis.exceptions.ConnectionError,
            redis.exceptions.TimeoutError,
            redis.exceptions.ReadOnlyError,
        )
        self._save = self.client.register_script(_SAVE)
        self._finish = self.client.register_script(_FINISH)
        self._bus: RedisBus | None = None

    # -- plumbing ---------------------------------------------------------------------

    def _key(self, kind: str, call_sid: str = "") -> str:
        return f"{self.prefix}:{kind}:{call_sid}" if call_sid else f"{self.prefix}:{kind}"

    @property
    def _ttl_ms(self) -> str:
        return "" if self.finished_ttl is None else str(max(1, int(self.finished_ttl * 1000)))

    @contextmanager
    def _redis(self) -> Iterator[Any]:
        try:
            yield self.client
        except self._transient as exc:
            raise StoreUnavailable(f"Redis store {self._where()}: {exc}") from exc

    def _where(self) -> str:
        kwargs = self.client.connection_pool.connection_kwargs
        return f"{kwargs.get('host', kwargs.get('path', '?'))}:{kwargs.get('port', '')}/{kwargs.get('db', 0)}"

    # -- hot state --------------------------------------------------------------------

    def load(self, call_sid: str) -> Stored | None:
        with self._redis() as r:
            data, version = r.hmget(self._key("session", call_sid), "data", "version")
        if data is None or version is None:
            return None
        return Stored(data=json.loads(data), version=int(version))

    def save(self, call_sid: str, data: dict, expected_version: int | None, events: Sequence[dict] = ()) -> int:
        text = dump_json(data)
        f = summary_fields(data)
        keys = [self._key("session", call_sid), self._key("call", call_sid),
                self._key("calls"), self._key("calls:active"), self._key("events", call_sid)]
        args = [call_sid, text, "" if expected_version is None else str(int(expected_version)),
                f["flow"], f["node"], f["phase"], repr(f["score"]), f["caller"], f["outcome"],
                self._ttl_ms, *(dump_json(event, "event") for event in events)]
        with self._redis():
            ok, version = self._save(keys=keys, args=args)
        if not ok:
            raise VersionConflict(call_sid, expected_version, None if version < 0 else int(version))
        return int(version)

    # -- event log --------------------------------------------------------------------

    def append_event(self, call_sid: str, event: dict) -> None:
        text = dump_json(event, "event")
        with self._redis() as r:
            r.rpush(self._key("events", call_sid), text)

    def events(self, call_sid: str) -> list[dict]:
        with self._redis() as r:
            items = r.lrange(self._key("events", call_sid), 0, -1)
        return [json.loads(item) for item in items]

    # -- summaries --------------------------------------------------------------------

    def finish(self, call_sid: str, outcome: str) -> None:
        keys = [self._key("session", call_sid), self._key("call", call_sid),
                self._key("calls:active"), self._key("calls:finished")]
        with self._redis():
            self._finish(keys=keys, args=[call_sid, outcome, self._ttl_ms])

    def forget_caller(self, caller: str) -> int:
        """Every call in the index whose summary names ``caller`` (a scan of the index:
        this is a rare, deliberate act of ops, not a call's path)."""
        forgotten = 0
        with self._redis() as r:
            for sid in r.zscan_iter(self._key("calls"), count=500):
                sid = sid[0]
                if r.hget(self._key("call", sid), "caller") != caller:
                    continue
                pipe = r.pipeline(transaction=True)
                pipe.delete(self._key("session", sid), self._key("events", sid), self._key("call", sid))
                for index in ("calls", "calls:active", "calls:finished"):
                    pipe.zrem(self._key(index), sid)
                pipe.execute()
                forgotten += 1
        return forgotten

    def list_calls(self, *, active: bool | None = None, limit: int = 50) -> list[dict]:
        if limit <= 0:
            return []
        index = {None: "calls", True: "calls:active", False: "calls:finished"}[active]
        with self._redis() as r:
            sids = r.zrevrange(self._key(index), 0, limit - 1)
            pipe = r.pipeline(transaction=False)
            for sid in sids:
                pipe.hgetall(self._key("call", sid))
            rows = pipe.execute()
        return [_summary(row) for row in rows if row]

    # -- the rest ---------------------------------------------------------------------

    @property
    def bus(self) -> RedisBus:
        if self._bus is None:
            self._bus = RedisBus(self.client, prefix=self.prefix, transient=self._transient)
        return self._bus

    @property
    def shared(self) -> Shared:
        """Counts and records in Redis: every host sees them."""
        found = self.__dict__.get("_shared")
        if found is None:
            found = self.__dict__.setdefault("_shared", RedisShared(self))
        return found

    @property
    def presence(self) -> Presence:
        """Agents' presence in this store (``presence.RedisPresence``), made once."""
        found = self.__dict__.get("_presence")
        if found is None:
            from .presence import RedisPresence

            found = self.__dict__.setdefault("_presence", RedisPresence(self))
        return found

    def release(self) -> None:
        """Let go of this process's pooled connections; the store stays usable and opens
        fresh ones on its next command. gunicorn's master calls it before it forks its
        workers and each worker after (the driver also notices a new process by itself)."""
        pool = self.client.connection_pool
        pool.disconnect()  # closes only sockets this process opened (the driver checks the pid)
        pool.reset()

    def close(self) -> None:
        self.client.close()

    def __repr__(self) -> str:
        return f"RedisStore({self._where()!r}, prefix={self.prefix!r})"


def _summary(row: dict[str, str]) -> dict:
    finished_at = row.get("finished_at")
    return {
        "call_sid": row.get("call_sid", ""),
        "flow": row.get("flow", ""),
        "node": row.get("node", ""),
        "phase": row.get("phase", ""),
        "score": float(row.get("score") or 0.0),
        "caller": row.get("caller", ""),
        "outcome": row.get("outcome", ""),
        "started_at": float(row.get("started_at") or 0.0),
        "updated_at": float(row.get("updated_at") or 0.0),
        "finished": row.get("finished") == "1",
        "finished_at": float(finished_at) if finished_at else None,
        "version": int(row.get("version") or 0),
    }


class RedisBus(Bus):
    """Redis pub/sub: every host subscribed to a channel gets what any host publishes."""

    def __init__(self, client: Any, *, prefix: str = "ivr", transient: tuple = ()):
        self.client = client
        self.prefix = prefix
        self._transient = transient or _driver_transient_errors()

    def _channel(self, channel: str) -> str:
        return f"{self.prefix}:bus:{channel}"

    def publish(self, channel: str, message: dict) -> None:
        text = dump_json(message, "message")
        try:
            self.client.publish(self._channel(channel), text)
        except self._transient as exc:
            raise StoreUnavailable(f"Redis bus: {exc}") from exc

    def subscribe(self, channel: str, *, timeout: float | None = None) -> RedisSubscription:
        return RedisSubscription(self, channel, timeout)


class RedisSubscription(Subscription):
    # Rules: the pub/sub connection is read by one thread at a time (``_lock``); ``get``
    # reads in short slices so that ``close`` from another thread waits at most one slice.
    _SLICE = 0.2

    def __init__(self, bus: RedisBus, channel: str, timeout: float | None):
        super().__init__(channel, timeout)
        self._transient = bus._transient
        self._lock = threading.Lock()
        self._closed = False
        self._pubsub = bus.client.pubsub(ignore_subscribe_messages=False)
        try:
            self._pubsub.subscribe(bus._channel(channel))
            # Wait for Redis to confirm, so that a message published by anyone after
            # this returns is guaranteed to arrive.
            deadline = time.monotonic() + 5.0
            while True:
                reply = self._pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
                if reply is not None and reply["type"] == "subscribe":
                    break
                if time.monotonic() >= deadline:
                    raise StoreUnavailable(f"Redis bus: no confirmation of subscribe({channel!r})")
        except self._transient as exc:
            self._pubsub.close()
            raise StoreUnavailable(f"Redis bus: {exc}") from exc

    def get(self, timeout: float | None = None) -> dict | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = self._SLICE if deadline is None else min(self._SLICE, deadline - time.monotonic())
            with self._lock:
                if self._closed:
                    return None
                try:
                    reply = self._pubsub.get_message(timeout=max(0.0, wait))
                except self._transient as exc:
                    raise StoreUnavailable(f"Redis bus: {exc}") from exc
            if reply is not None and reply["type"] == "message":
                return json.loads(reply["data"])
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def close(self) -> None:
        self._closed = True
        with self._lock:
            if self._pubsub is not None:
                with suppress(*self._transient):
                    self._pubsub.close()
                self._pubsub = None


def _driver_transient_errors() -> tuple:
    import redis

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class RedisShared(Shared):
    """``Shared`` in Redis (keys ``<p>:shared:*``), one script per hit."""

    def __init__(self, store: RedisStore) -> None:
        self.store = store
        self._hit = store.client.register_script(_HIT)
        self._counter = 0
        self._lock = threading.Lock()

    def _key(self, kind: str, key: str) -> str:
        return f"{self.store.prefix}:shared:{kind}:{key}"

    def hit(self, key: str, window: float) -> int:
        with self._lock:
            self._counter += 1
            member = f"{time.time():.6f}:{id(self)}:{self._counter}"
        with self.store._redis():
            return int(self._hit(keys=[self._key("hits", key)], args=[window, member]))

    def clear_hits(self, key: str) -> None:
        with self.store._redis() as client:
            client.delete(self._key("hits", key))

    def get(self, key: str) -> dict | None:
        with self.store._redis() as client:
            text = client.get(self._key("record", key))
        return json.loads(text) if text else None

    def put(self, key: str, value: dict, ttl: float) -> None:
        text = dump_json(value, "value")
        with self.store._redis() as client:
            client.set(self._key("record", key), text, px=max(1, int(ttl * 1000)))

    def delete(self, key: str) -> None:
        with self.store._redis() as client:
            client.delete(self._key("record", key))
