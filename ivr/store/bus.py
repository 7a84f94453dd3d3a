"""Publish/subscribe of small JSON dicts between the parts of the IVR.

The agent console and the transfer logic talk through a ``Bus``: a call's host publishes
("caller waiting", "whisper done") and the console's host subscribes. With Redis that is
Redis pub/sub (``ivr.store.redis.RedisBus``), across hosts; with SQLite (one host) it is
``LocalBus``, in-process queues.

Delivery is fire-and-forget, as with Redis: a message reaches the subscriptions open when
it is published, and nobody else. Durable history belongs in the store's event log.

Rules of this file: ``subscribe`` registers the subscription before returning (a
generator would only register at the first ``next``, and lose what came in between);
messages are copied through JSON on publish, so subscribers never share a dict with the
publisher and a non-JSON message fails at the publisher, as it would with Redis.
"""
from __future__ import annotations

import json
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator

from .base import dump_json


class Subscription(ABC):
    """Messages from one bus channel, from the moment ``subscribe`` returned.

    Iterate to get messages; iteration ends when no message came for ``timeout``
    seconds (``None``: wait until closed). Close it (or use ``with``) when done.
    """

    def __init__(self, channel: str, timeout: float | None):
        self.channel = channel
        self.timeout = timeout

    @abstractmethod
    def get(self, timeout: float | None = None) -> dict | None:
        """The next message, or ``None`` after ``timeout`` seconds or once closed."""

    @abstractmethod
    def close(self) -> None:
        """Stop receiving. Safe to call twice, and from another thread."""

    def __iter__(self) -> Iterator[dict]:
        while True:
            message = self.get(self.timeout)
            if message is None:
                return
            yield message

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Bus(ABC):
    """Publish/subscribe of JSON dicts by channel name (console and transfer events)."""

    @abstractmethod
    def publish(self, channel: str, message: dict) -> None:
        """Send ``message`` to every open subscription of ``channel`` (none: dropped)."""

    @abstractmethod
    def subscribe(self, channel: str, *, timeout: float | None = None) -> Subscription:
        """Start receiving ``channel``; every message published after this returns arrives.

        ``timeout`` is how long iterating the subscription waits for the next message
        before it ends (``None``: until the subscription is closed).
        """

    def close(self) -> None:  # noqa: B027 - an optional hook, not an abstract method
        """Release the bus's own resources (open subscriptions stay usable until closed).

        Backends without resources of their own keep this default, which does nothing.
        """


_CLOSED = object()  # put into a LocalSubscription's queue to wake a blocked reader


class LocalBus(Bus):
    """An in-process bus (thread-safe): for a single host, e.g. with the SQLite store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, set[queue.SimpleQueue]] = {}

    def publish(self, channel: str, message: dict) -> None:
        text = dump_json(message, "message")
        with self._lock:
            targets = list(self._queues.get(channel, ()))
        for q in targets:
            q.put(json.loads(text))

    def subscribe(self, channel: str, *, timeout: float | None = None) -> LocalSubscription:
        q: queue.SimpleQueue = queue.SimpleQueue()
        with self._lock:
            self._queues.setdefault(channel, set()).add(q)
        return LocalSubscription(self, channel, q, timeout)

    def _drop(self, channel: str, q: queue.SimpleQueue) -> None:
        with self._lock:
            subscribers = self._queues.get(channel)
            if subscribers is not None:
                subscribers.discard(q)
                if not subscribers:
                    del self._queues[channel]


class LocalSubscription(Subscription):
    def __init__(self, bus: LocalBus, channel: str, q: queue.SimpleQueue, timeout: float | None):
        super().__init__(channel, timeout)
        self._bus = bus
        self._queue = q
        self._closed = False

    def get(self, timeout: float | None = None) -> dict | None:
        if self._closed:
            return None
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is _CLOSED:
            self._queue.put(_CLOSED)  # wake any other reader too
            return None
        return item

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._bus._drop(self.channel, self._queue)
            self._queue.put(_CLOSED)
