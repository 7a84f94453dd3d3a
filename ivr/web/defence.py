"""Defences against hostile input: failed-signature rate limiting and request limits.

* A source address (``request.remote_addr``; put a proxy's ``ProxyFix`` in front when
  there is one) that fails the ``X-Twilio-Signature`` check ``IVR_FAILED_SIGNATURE_LIMIT``
  times (20) within ``IVR_FAILED_SIGNATURE_WINDOW`` seconds (60) gets ``429`` with a
  ``Retry-After`` for ``IVR_FAILED_SIGNATURE_BLOCK`` seconds (300) for every request that
  fails the check. A request with a valid signature is never limited: it is checked first,
  so a blocked proxy address cannot shut out Twilio itself. While a source is blocked its
  failures are no longer logged one by one (one line when the block starts).
  Failed ``/admin`` logins count as failures too.
* The counts live in Redis when the session store is Redis (every host sees the same
  attacker), else in this process's memory (bounded).
* Bodies over ``IVR_MAX_BODY_BYTES`` get 413; more than ``MAX_FORM_PARTS`` form fields,
  400. Error answers are short plain text, never an HTML page or a 5xx.

Rules of this file: the limiter never raises: if Redis cannot be reached, counting falls
back to memory (a defence must not take the line down).
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ivr.settings import Settings

log = logging.getLogger(__name__)
MAX_FORM_PARTS = 200  # Twilio sends about 30 fields
MAX_SOURCES = 10_000  # sources remembered in memory


class MemoryLimiter:
    """Failure counts per source in this process (sliding window, bounded memory)."""

    def __init__(self, limit: int, window: float, block: float, clock=time.monotonic):
        self.limit, self.window, self.block, self.clock = limit, window, block, clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque] = OrderedDict()
        self._blocked: dict[str, float] = {}

    def blocked_for(self, source: str) -> float:
        """Seconds ``source`` stays blocked (0: not blocked)."""
        with self._lock:
            until = self._blocked.get(source, 0.0)
            left = until - self.clock()
            if left <= 0 and until:
                del self._blocked[source]
            return max(left, 0.0)

    def failed(self, source: str) -> bool:
        """Count one failure; True when this one starts a block."""
        now = self.clock()
        with self._lock:
            times = self._failures.pop(source, None) or deque()
            self._failures[source] = times  # most recent last
            times.append(now)
            while times and times[0] <= now - self.window:
                times.popleft()
            while len(self._failures) > MAX_SOURCES:
                self._failures.popitem(last=False)
            if len(times) >= self.limit and self._blocked.get(source, 0.0) <= now:
                self._blocked[source] = now + self.block
                times.clear()
                if len(self._blocked) > MAX_SOURCES:
                    for key in [k for k, until in self._blocked.items() if until <= now]:
                        del self._blocked[key]
                return True
        return False


# KEYS: failures (sorted set), blocked. ARGV: now, window, limit, block, member.
# Returns 1 when this failure starts a block.
_FAILED = """
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], '1', 'PX', math.ceil(tonumber(ARGV[4]) * 1000))
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


class RedisLimiter:
    """The same counts in Redis, shared by every host (keys ``<prefix>:defence:*``)."""

    def __init__(self, client: Any, prefix: str, limit: int, window: float, block: float):
        self.client, self.prefix = client, prefix
        self.limit, self.window, self.block = limit, window, block
        self._script = client.register_script(_FAILED)
        self._fallback = MemoryLimiter(limit, window, block)
        self._counter = 0
        self._lock = threading.Lock()

    def _keys(self, source: str) -> list[str]:
        return [f"{self.prefix}:defence:failures:{source}", f"{self.prefix}:defence:blocked:{source}"]

    def blocked_for(self, source: str) -> float:
        try:
            ms = self.client.pttl(self._keys(source)[1])
        except Exception:
            return self._fallback.blocked_for(source)
        return max(ms, 0) / 1000.0 if ms and ms > 0 else self._fallback.blocked_for(source)

    def failed(self, source: str) -> bool:
        with self._lock:
            self._counter += 1
            member = f"{time.time():.6f}:{id(self)}:{self._counter}"
        try:
            return bool(self._script(keys=self._keys(source),
                                     args=[f"{time.time():.6f}", self.window, self.limit, self.block, member]))
        except Exception:
            log.warning("failed-signature counting falls back to this process (Redis: unreachable)")
            return self._fallback.failed(source)


def make_limiter(settings: Settings, store: Any):
    args = (settings.failed_signature_limit, settings.failed_signature_window, settings.failed_signature_block)
    client, prefix = getattr(store, "client", None), getattr(store, "prefix", None)
    if client is not None and prefix and hasattr(client, "register_script"):
        return RedisLimiter(client, prefix, *args)
    return MemoryLimiter(*args)


def source_of(req) -> str:
    return req.remote_addr or "?"


class LimitedGuard:
    """The signature guard with failed-check rate limiting (same ``check`` interface).

    ``check`` returns True for a valid request (always, even from a blocked source),
    False for a refused one (the caller answers 403), and raises a 429 when the source
    has failed too often."""

    def __init__(self, guard: Any, limiter: Any):
        self.guard = guard
        self.limiter = limiter
        self.settings = guard.settings

    def url_of(self, req) -> str:
        return self.guard.url_of(req)

    def check(self, req) -> bool:
        if self._valid_quietly(req):  # valid: never limited, and no store round trip
            return True
        source = source_of(req)
        left = self.limiter.blocked_for(source)
        if left > 0:
            too_many(left)  # quietly: the block's start was logged once
        if self.guard.check(req):  # logs why it is refused
            return True
        self.refused(source)
        return False

    def refused(self, source: str) -> None:
        """Count a failure for ``source``; raises 429 when it starts a block."""
        if self.limiter.failed(source):
            log.warning("%s failed %d signature or login checks within %.0f s: refusing its unsigned requests "
                        "with 429 for %.0f s", source, self.limiter.limit, self.limiter.window, self.limiter.block)
            too_many(self.limiter.block)

    def _valid_quietly(self, req) -> bool:
        if not self.settings.validate_signatures:
            return True
        signature = req.headers.get("X-Twilio-Signature", "")
        if not signature or not self.settings.twilio_auth_token:
            return False
        return bool(self.guard.validator.validate(self.guard.url_of(req), req.form, signature))


class TooManyFailures(HTTPException):
    code = 429
    description = "too many failed signature checks from this address; try again later"

    def __init__(self, retry_after: float):
        super().__init__()
        self.retry_after = max(1, int(retry_after + 0.999))


def too_many(retry_after: float):
    raise TooManyFailures(retry_after)


def init_app(app: Flask, settings: Settings, store: Any, signatures: Any) -> LimitedGuard:
    """Set request limits and plain-text error answers; return ``signatures`` (the plain
    signature guard) wrapped with failed-check rate limiting."""
    app.config["MAX_FORM_PARTS"] = MAX_FORM_PARTS
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_body_bytes
    guard = LimitedGuard(signatures, make_limiter(settings, store))

    @app.before_request
    def refuse_oversized():
        length = request.content_length
        if length is not None and length > settings.max_body_bytes:
            raise RequestEntityTooLarge(f"the body has {length} bytes; the limit is {settings.max_body_bytes} "
                                        "(IVR_MAX_BODY_BYTES)")

    @app.errorhandler(HTTPException)
    def plain_error(exc: HTTPException):
        code = exc.code or 400
        response = Response(f"{exc.name.lower()}: {exc.description}\n" if code >= 400 else "", status=code,
                            mimetype="text/plain")
        if isinstance(exc, TooManyFailures):
            response.headers["Retry-After"] = str(exc.retry_after)
        if code == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        if code in (301, 302, 307, 308):
            return exc
        return response

    return guard


__all__ = ["LimitedGuard", "MemoryLimiter", "RedisLimiter", "TooManyFailures", "init_app", "make_limiter", "source_of"]
