"""Defences against hostile input: lock-outs after failed checks, and request limits.

* A source address (``request.remote_addr``; put a proxy's ``ProxyFix`` in front when
  there is one) that fails the ``X-Twilio-Signature`` check ``IVR_FAILED_SIGNATURE_LIMIT``
  times (20) within ``IVR_FAILED_SIGNATURE_WINDOW`` seconds (60) gets ``429`` with a
  ``Retry-After`` for ``IVR_FAILED_SIGNATURE_BLOCK`` seconds (300) for every request that
  fails the check. A request with a valid signature is never limited: it is checked first,
  so a blocked proxy address cannot shut out Twilio itself. While a source is blocked its
  failures are no longer logged one by one (one line when the block starts).
* Sign-ins (``SignIns``): ``IVR_SIGN_IN_LIMIT`` failed console sign-ins or ``/admin``
  tokens from one address, or ``IVR_SIGN_IN_ACCOUNT_LIMIT`` for one agent name from any
  address, within ``IVR_SIGN_IN_WINDOW`` lock that address (or name) out for
  ``IVR_SIGN_IN_LOCKOUT`` seconds, twice as long for each further lock-out within a day
  (up to 64 times). A locked-out attempt is answered 429 without its password or token
  being checked, and does not count against the agent: one address alone can never
  lock an agent out.
* Every count lives in the session store's ``shared`` records (``ivr.store.shared``):
  the SQLite file (every worker of the host) or Redis (every host). One ``Limiter`` does
  all of it.
* Bodies over ``IVR_MAX_BODY_BYTES`` get 413; more than ``MAX_FORM_PARTS`` form fields,
  400. Error answers are short plain text, never an HTML page or a 5xx.

Rules of this file: the limiter never raises: if the store cannot be reached, counting
falls back to this process's memory (a defence must not take the line down).
"""
from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ivr.settings import Settings
from ivr.store.shared import MemoryShared, Shared

log = logging.getLogger(__name__)
MAX_FORM_PARTS = 200  # Twilio sends about 30 fields
STRIKES_KEPT = 86400.0  # a lock-out counts towards the next one's length for a day
MAX_DOUBLINGS = 6  # the longest lock-out is 64 times the first
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass(frozen=True)
class Rule:
    """``limit`` failures within ``window`` seconds block for ``block`` seconds (doubled
    for each further block within a day when ``doubling``). ``name`` keeps counts apart."""

    name: str
    limit: int
    window: float
    block: float
    doubling: bool = False


class Limiter:
    """Failures per rule and source, counted in ``shared`` (the store's), never raising."""

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self.fallback = MemoryShared(clock=time.time)
        self._said_unreachable = 0.0

    def blocked_for(self, rule: Rule, who: str) -> float:
        """Seconds ``who`` stays blocked under ``rule`` (0: not blocked)."""
        record = self._do("get", _key(rule, "blocked", who))
        until = float(record.get("until", 0)) if isinstance(record, dict) else 0.0
        return max(0.0, until - time.time())

    def failed(self, rule: Rule, who: str) -> float:
        """Count one failure; the seconds of the block it starts (0: none starts)."""
        if self._do("hit", _key(rule, "failures", who), rule.window) < rule.limit:
            return 0.0
        strikes = 0
        if rule.doubling:
            record = self._do("get", _key(rule, "strikes", who))
            strikes = int(record.get("n", 0)) if isinstance(record, dict) else 0
            self._do("put", _key(rule, "strikes", who), {"n": strikes + 1}, STRIKES_KEPT)
        block = rule.block * 2 ** min(strikes, MAX_DOUBLINGS)
        self._do("put", _key(rule, "blocked", who), {"until": time.time() + block}, block)
        self._do("clear_hits", _key(rule, "failures", who))
        return block

    def forget(self, rule: Rule, who: str) -> None:
        """A success: forget ``who``'s failures and earlier blocks under ``rule``."""
        self._do("clear_hits", _key(rule, "failures", who))
        self._do("delete", _key(rule, "strikes", who))

    def _do(self, operation: str, *args: Any) -> Any:
        try:
            return getattr(self.shared, operation)(*args)
        except Exception as exc:
            now = time.monotonic()
            if now - self._said_unreachable > 60:
                self._said_unreachable = now
                log.warning("lock-out counts fall back to this process: the session store cannot be reached (%s)",
                            exc)
            return getattr(self.fallback, operation)(*args)


def _key(rule: Rule, kind: str, who: str) -> str:
    """A short key for any ``who`` (an agent name typed by anybody is hashed)."""
    if not _PLAIN_KEY.match(who):
        who = "h-" + hashlib.sha256(who.encode("utf-8", "replace")).hexdigest()[:32]
    return f"{rule.name}:{kind}:{who}"


def source_of(req) -> str:
    return req.remote_addr or "?"


class SignIns:
    """Lock-outs of console sign-ins and ``/admin`` tokens (see the module's docstring)."""

    def __init__(self, limiter: Limiter, settings: Settings) -> None:
        self.limiter = limiter
        self.by_address = Rule("sign-in", settings.sign_in_limit, settings.sign_in_window,
                               settings.sign_in_lockout, doubling=True)
        self.by_name = Rule("sign-in-name", settings.sign_in_account_limit, settings.sign_in_window,
                            settings.sign_in_lockout, doubling=True)

    def blocked_for(self, address: str, name: str = "") -> float:
        """Seconds before ``address`` (or the agent ``name``) may try again; 0: now."""
        left = self.limiter.blocked_for(self.by_address, address)
        if name and left <= 0:
            left = self.limiter.blocked_for(self.by_name, _name(name))
        return left

    def failed(self, address: str, name: str = "", what: str = "sign-in") -> None:
        """Count a failed sign-in (or admin token) from ``address`` for ``name``."""
        block = self.limiter.failed(self.by_address, address)
        if block:
            log.warning("%s failed %d %ss within %.0f s: locked out for %.0f s", address, self.by_address.limit,
                        what, self.by_address.window, block)
        if name:
            block = self.limiter.failed(self.by_name, _name(name))
            if block:
                log.warning("the agent name %r failed %d sign-ins within %.0f s (from any address): locked out for "
                            "%.0f s", _name(name)[:64], self.by_name.limit, self.by_name.window, block)

    def succeeded(self, name: str) -> None:
        """The agent ``name`` signed in: their failures and lock-outs are forgotten."""
        self.limiter.forget(self.by_name, _name(name))


def _name(name: str) -> str:
    return name.strip().lower()


class LimitedGuard:
    """The signature guard with failed-check rate limiting (same ``check`` interface).

    ``check`` returns True for a valid request (always, even from a blocked source),
    False for a refused one (the caller answers 403), and raises a 429 when the source
    has failed too often."""

    def __init__(self, guard: Any, limiter: Limiter, settings: Settings):
        self.guard = guard
        self.limiter = limiter
        self.settings = guard.settings
        self.rule = Rule("signature", settings.failed_signature_limit, settings.failed_signature_window,
                         settings.failed_signature_block)
        self.sign_ins = SignIns(limiter, settings)

    def url_of(self, req) -> str:
        return self.guard.url_of(req)

    def check(self, req) -> bool:
        if self._valid_quietly(req):  # valid: never limited, and no store round trip
            return True
        source = source_of(req)
        left = self.limiter.blocked_for(self.rule, source)
        if left > 0:
            too_many(left)  # quietly: the block's start was logged once
        if self.guard.check(req):  # logs why it is refused
            return True
        self.refused(source)
        return False

    def refused(self, source: str) -> None:
        """Count a failure for ``source``; raises 429 when it starts a block."""
        block = self.limiter.failed(self.rule, source)
        if block:
            log.warning("%s failed %d signature checks within %.0f s: refusing its unsigned requests "
                        "with 429 for %.0f s", source, self.rule.limit, self.rule.window, block)
            too_many(block)

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

    def __init__(self, retry_after: float, description: str | None = None):
        super().__init__(description)
        self.retry_after = max(1, int(retry_after + 0.999))


def too_many(retry_after: float, description: str | None = None):
    raise TooManyFailures(retry_after, description)


def init_app(app: Flask, settings: Settings, store: Any, signatures: Any) -> LimitedGuard:
    """Set request limits and plain-text error answers; return ``signatures`` (the plain
    signature guard) wrapped with failed-check rate limiting."""
    app.config["MAX_FORM_PARTS"] = MAX_FORM_PARTS
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_body_bytes
    guard = LimitedGuard(signatures, Limiter(store.shared), settings)

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


__all__ = ["LimitedGuard", "Limiter", "Rule", "SignIns", "TooManyFailures", "init_app", "source_of", "too_many"]
