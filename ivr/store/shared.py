"""Small short-lived records every process of the line shares through its store: the
counts behind lock-outs (failed signatures, failed sign-ins) and console sessions.

``SessionStore.shared`` gives one ``Shared`` per store: rows of the SQLite file (every
process on the host) or keys of Redis (every host). Two operations make everything the
web shell needs:

* ``hit(key, window)``: count one event now and return how many happened in the last
  ``window`` seconds (a sliding window, atomic: two workers counting at once both count);
* ``put(key, value, ttl)`` / ``get(key)`` / ``delete(key)``: a JSON dict that is gone
  ``ttl`` seconds after it was last put.

``MemoryShared`` keeps the same in this process only: the fallback when the store cannot
be reached, and the default of a store that has nothing better. Keys are short text
(callers hash what they do not control); values are JSON dicts.
"""
from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict, deque
from typing import Any

__all__ = ["Shared", "MemoryShared"]

MAX_KEYS = 10_000  # keys one MemoryShared remembers (the oldest are forgotten first)


class Shared(ABC):
    """Sliding-window counts and expiring records, shared as far as the store reaches."""

    @abstractmethod
    def hit(self, key: str, window: float) -> int:
        """Count one event for ``key`` now; the number of events in the last ``window`` seconds."""

    @abstractmethod
    def clear_hits(self, key: str) -> None:
        """Forget the events counted for ``key``."""

    @abstractmethod
    def get(self, key: str) -> dict[str, Any] | None:
        """The record ``key``, or None when there is none (never put, deleted or expired)."""

    @abstractmethod
    def put(self, key: str, value: dict[str, Any], ttl: float) -> None:
        """Keep ``value`` as the record ``key`` for ``ttl`` seconds from now."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Forget the record ``key`` (nothing happens when there is none)."""


class MemoryShared(Shared):
    """The same in this process's memory (bounded to ``MAX_KEYS`` keys of each kind)."""

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._records: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()

    def hit(self, key: str, window: float) -> int:
        now = self.clock()
        with self._lock:
            times = self._hits.pop(key, None) or deque()
            self._hits[key] = times
            times.append(now)
            while times and times[0] <= now - window:
                times.popleft()
            while len(self._hits) > MAX_KEYS:
                self._hits.popitem(last=False)
            return len(times)

    def clear_hits(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._records.get(key)
            if found is None:
                return None
            if found[0] <= self.clock():
                del self._records[key]
                return None
            return dict(found[1])

    def put(self, key: str, value: dict[str, Any], ttl: float) -> None:
        with self._lock:
            self._records.pop(key, None)
            self._records[key] = (self.clock() + ttl, dict(value))
            while len(self._records) > MAX_KEYS:
                self._records.popitem(last=False)

    def delete(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)
