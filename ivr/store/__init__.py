"""Where calls are kept between webhooks: versioned session state, event logs, summaries.

Open a store from its URL::

    store = open_store("sqlite:///var/lib/ivr/calls.sqlite3")       # one host (default)
    store = open_store("redis://127.0.0.1:6379/0?finished_ttl=3600") # several hosts

    store.update(call_sid, lambda cur: step(cur.data) if cur else new_session())
    store.append_event(call_sid, {"type": "pressed", "digits": "1"})
    store.finish(call_sid, "contained")

URL options (query string), both backends: ``finished_ttl`` (seconds the hot state of a
finished call, its session with any secret slots and its turns, is kept after the call
ends; default 86400; ``none`` keeps it). SQLite: ``busy_timeout`` (seconds, default 5).
Redis: ``prefix`` (key namespace, default ``ivr``); any other Redis option is passed to
the redis driver (``socket_timeout=2``, ...).
"""
from __future__ import annotations

import difflib
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .base import SessionStore, Stored, StoreError, StoreUnavailable, VersionConflict
from .bus import Bus, LocalBus, Subscription

__all__ = [
    "Bus",
    "LocalBus",
    "SessionStore",
    "Stored",
    "StoreError",
    "StoreUnavailable",
    "Subscription",
    "VersionConflict",
    "open_store",
]

_SQLITE_OPTIONS = {"busy_timeout", "finished_ttl"}


def open_store(url: str) -> SessionStore:
    """A session store for ``url``: ``sqlite:///<absolute path>`` or ``redis://host:port/db``.

    Raises ``ValueError`` naming the problem for an unknown scheme, a relative SQLite
    path or an unknown option. Opening does not contact Redis; the first operation
    raises ``StoreUnavailable`` if it cannot be reached.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(
            f"session store URL {url!r} has no scheme; use sqlite:///<path> or redis://host:port/db"
        )
    scheme = scheme.lower()
    if scheme == "sqlite":
        return _open_sqlite(url, rest)
    if scheme in ("redis", "rediss", "unix"):
        return _open_redis(url)
    hint = difflib.get_close_matches(scheme, ["sqlite", "redis", "rediss", "unix"], n=1)
    did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
    raise ValueError(
        f"unknown session store scheme {scheme!r} in {url!r}{did_you_mean};"
        " use sqlite:///<absolute path> or redis://host:port/db"
    )


def _open_sqlite(url: str, rest: str) -> SessionStore:
    from .sqlite import SQLiteStore

    path, _, query = rest.partition("?")
    if not path.startswith("/") or path == "/":
        raise ValueError(
            f"SQLite store URL {url!r} needs an absolute file path after 'sqlite://',"
            " e.g. sqlite:///var/lib/ivr/calls.sqlite3"
        )
    path = "/" + path.lstrip("/")  # sqlite:///abs and sqlite:////abs both mean /abs
    options = dict(parse_qsl(query, keep_blank_values=True))
    _reject_unknown(url, options, _SQLITE_OPTIONS)
    kwargs: dict[str, Any] = {}
    if "busy_timeout" in options:
        kwargs["busy_timeout"] = _seconds(url, "busy_timeout", options["busy_timeout"])
    if "finished_ttl" in options:
        value = options["finished_ttl"]
        kwargs["finished_ttl"] = None if value.lower() in ("none", "") else _seconds(url, "finished_ttl", value)
    return SQLiteStore(path, **kwargs)


def _open_redis(url: str) -> SessionStore:
    from .redis import RedisStore

    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in pairs if k in ("finished_ttl", "prefix")}
    driver_query = urlencode([(k, v) for k, v in pairs if k not in ours])
    kwargs: dict = {}
    if "finished_ttl" in ours:
        value = ours["finished_ttl"]
        keep = value.lower() in ("none", "")
        kwargs["finished_ttl"] = None if keep else _seconds(url, "finished_ttl", value)
    if "prefix" in ours:
        if not ours["prefix"]:
            raise ValueError(f"store URL {url!r}: prefix must not be empty")
        kwargs["prefix"] = ours["prefix"]
    return RedisStore(urlunsplit(parts._replace(query=driver_query)), **kwargs)


def _reject_unknown(url: str, options: dict, known: set[str]) -> None:
    for name in options:
        if name not in known:
            hint = difflib.get_close_matches(name, sorted(known), n=1)
            did_you_mean = f"; did you mean {hint[0]!r}?" if hint else f"; known: {', '.join(sorted(known))}"
            raise ValueError(f"store URL {url!r}: unknown option {name!r}{did_you_mean}")


def _seconds(url: str, name: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ValueError(f"store URL {url!r}: {name} must be a positive number of seconds, not {value!r}")
    return seconds
