"""Console sessions kept on the server: who is signed in, until when.

The console's cookie carries only a random session id (and the CSRF token); the session
itself is a record in the store's ``shared`` records, so every worker and host knows it,
and signing out deletes it: a copy of the cookie taken before is worth nothing after.
A session ends ``IVR_CONSOLE_IDLE_TIMEOUT`` seconds after the agent's last page view or
action (the live board's event stream does not count: an unattended screen signs out),
and in any case ``LIFETIME`` seconds after sign-in.

Rules of this file: a store that cannot be reached means "not signed in" (the console
fails closed, the phone line does not care); the record is rewritten at most every
``TOUCH_EVERY`` seconds, not on every request.
"""
from __future__ import annotations

import logging
import secrets
import time

from ivr.store.shared import Shared

__all__ = ["ConsoleSessions", "LIFETIME", "TOUCH_EVERY"]

log = logging.getLogger(__name__)
LIFETIME = 12 * 3600.0  # a working day and then some: sign in again after it
TOUCH_EVERY = 30.0  # seconds between two rewrites of a session's last activity


class ConsoleSessions:
    """Signed-in console sessions in ``shared``, ending after ``idle`` seconds of quiet."""

    def __init__(self, shared: Shared, idle: float) -> None:
        self.shared = shared
        self.idle = idle

    def begin(self, agent: str) -> str:
        """A new session for ``agent``; its id goes in the cookie."""
        sid = secrets.token_urlsafe(24)
        now = time.time()
        self.shared.put(_key(sid), {"agent": agent, "began": now, "seen": now}, self.idle)
        return sid

    def agent_of(self, sid: str, active: bool = True) -> str | None:
        """The agent signed in as session ``sid``, or None (unknown, signed out, idle too
        long, too old, or the store is unreachable). ``active``: this request is the agent
        at work, so the idle time starts again."""
        if not sid:
            return None
        try:
            record = self.shared.get(_key(sid))
            if record is None:
                return None
            now = time.time()
            if now - float(record.get("began", 0)) > LIFETIME or now - float(record.get("seen", 0)) > self.idle:
                self.shared.delete(_key(sid))
                return None
            if active and now - float(record.get("seen", 0)) > min(TOUCH_EVERY, self.idle / 10):
                self.shared.put(_key(sid), {**record, "seen": now}, self.idle)
            agent = record.get("agent")
            return agent if isinstance(agent, str) else None
        except Exception as exc:
            log.warning("console: cannot read sessions from the store (%s); treating the agent as signed out", exc)
            return None

    def end(self, sid: str) -> None:
        """Sign out: the session is gone for every copy of its cookie."""
        if sid:
            try:
                self.shared.delete(_key(sid))
            except Exception as exc:
                log.warning("console: cannot end session in the store (%s); it ends when it idles out", exc)


def _key(sid: str) -> str:
    return f"console-session:{sid}"
