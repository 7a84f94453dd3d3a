"""The record keeper: when a call ends, its durable record goes to the call records.

``Line`` calls ``call_ended`` once, from the request that ended the call, after the store
has the final session. Building and writing the record (``ivr.records``: SQLite by
default, PostgreSQL with ``IVR_RECORDS_URL``) runs on the background pool, so a slow or
unreachable records database never holds a caller's webhook; a failure is logged with
the call id and the hot store keeps the call's state until it expires.

The keeper also holds the callers' memory (``ivr.records.memory``): ``profile`` reads a
caller's profile when a call starts (under a short deadline, outside any store update),
and the same background work that writes a call's record adds the call to the profile.

Every read and write of the records runs through ``ivr.records.native``: under gevent
workers on native threads, so a records database that waits (a lock, a stalled disk or
server) holds only the greenlet that asked, never the worker's other connections, and the
profile's deadline can cut the wait.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ivr.model.flow import Flow
from ivr.model.memory import remembered
from ivr.model.session import Session
from ivr.records import native
from ivr.records.memory import caller_key
from ivr.store import SessionStore

if TYPE_CHECKING:
    from ivr.records import Records

    from .services import Background
    from .worklists import WorklistDesk

__all__ = ["RecordKeeper", "open_keeper"]

log = logging.getLogger(__name__)
MEMORY_DEADLINE = 0.5  # seconds a starting call waits for the caller's profile, at most


class RecordKeeper:
    def __init__(self, records: Records, store: SessionStore, background: Background, memory_secret: str = "") -> None:
        from ivr.records.memory import CallerMemory

        self.records, self.store, self.background = records, store, background
        self.memory = CallerMemory(records.engine)
        self.memory_secret = memory_secret  # IVR_MEMORY_KEY (else IVR_SECRET_KEY): "" turns caller memory off
        self.worklists: WorklistDesk | None = None  # files the call's voicemail and callback promise

    def call_ended(self, call_sid: str, flow: Flow, session: Session, at: datetime) -> None:
        self.background.submit(f"keeping the record of call {call_sid}", self.keep, call_sid, flow, session, at)

    def _wrap_up_meanwhile(self, call_sid: str) -> None:
        """An agent's wrap-up given while the record was being written (the console found
        no record yet): put the last one on the record now."""
        answer = next((e for e in reversed(self.store.events(call_sid)) if e.get("type") == "WrapUp"), None)
        if answer is not None and answer.get("at"):
            native.run(self.records.wrap_up, call_sid, str(answer.get("code", "")), str(answer.get("by", "")),
                       bool(answer.get("needed_person")), datetime.fromisoformat(str(answer["at"])))

    def keep(self, call_sid: str, flow: Flow, session: Session, at: datetime) -> None:
        from ivr.records import build_record

        try:
            native.run(self.records.write, build_record(flow, session, self.store.events(call_sid), at))
            self._wrap_up_meanwhile(call_sid)
        except Exception:  # the records are a report: a failure must not touch the call
            log.exception("call %s: its record could not be kept", call_sid)
        if self.worklists is not None:  # a voicemail or a callback promise is work for a person
            self.worklists.file(session, at)
        try:
            self.remember(call_sid, flow, session, at)
        except Exception:  # memory helps the next call; its failure must not touch this one
            log.exception("call %s: the caller's memory could not be updated", call_sid)

    # -- caller memory (ivr.records.memory): read when a call starts, updated when it ends --

    def profile(self, number: str, at: datetime) -> dict[str, Any] | None:
        """The caller's profile for a starting call, or None (no memory for this call):
        the number is withheld, no memory key is set, or the records did not answer
        within ``MEMORY_DEADLINE`` seconds (the call goes on without memory, never silent)."""
        key = caller_key(number, self.memory_secret)
        if not key:
            return None
        try:
            return native.run_within(MEMORY_DEADLINE, self.memory.profile, key, at)
        except TimeoutError:
            log.warning("caller memory: the records took longer than %.1f s; this call starts without memory",
                        MEMORY_DEADLINE)
        except Exception as exc:
            log.warning("caller memory: the records could not be read (%s); this call starts without memory",
                        type(exc).__name__)
        return None

    def remember(self, call_sid: str, flow: Flow, session: Session, at: datetime) -> None:
        """Add the finished call to the caller's profile when the call had memory (its
        flow opts in and the number is not withheld); otherwise only mark the record
        with the caller's key, so the console can still list their calls."""
        key = caller_key(session.caller, self.memory_secret)
        if not key:
            return
        kept = session.memory
        if not kept or "profile" not in kept:
            native.run(self.memory.mark_call, key, call_sid, session.topic)
            return
        fresh = session.verified and not kept.get("verified_before")  # verified on this call, not by memory
        entry = remembered(tuple(kept.get("remember") or ()), flow.secrets, session.slots, topic=session.topic,
                           outcome=session.outcome, language=session.language or flow.language, verified=fresh,
                           callback_due=str(session.callback.get("due_by", "")) if session.callback else "")
        native.run(self.memory.remember, key, entry, call_sid=call_sid, flow=session.flow, at=at,
                   retention_days=int(kept.get("retention_days") or 90))

    def history(self, number: str | None, call_sid: str, limit: int = 10) -> list[dict[str, Any]]:
        """The caller's other calls on record, newest first, for the console: found by the
        caller's number, or (``number`` None: the call's live state expired) by the key on
        the call's record; [] for a withheld number."""
        def read() -> list[dict[str, Any]]:
            key = caller_key(number, self.memory_secret) if number is not None else self.memory.key_of_call(call_sid)
            return self.memory.history(key, limit=limit, before=call_sid)

        return native.run(read)


def open_keeper(url: str, store: SessionStore, background: Background, memory_secret: str = "") -> RecordKeeper | None:
    """A keeper writing to ``url``, or None (logged) when the records cannot be opened:
    calls go on, unrecorded, and ``ivr doctor`` says why."""
    try:
        from ivr.records import open_records

        return RecordKeeper(open_records(url), store, background, memory_secret)
    except Exception as exc:  # a missing driver, an unreachable server, a bad URL
        log.error("call records are off: cannot open %s (%s: %s); set IVR_RECORDS_URL or fix the database",
                  _redacted(url), type(exc).__name__, exc)
        return None


def _redacted(url: str) -> str:
    from ivr.settings import redact_url

    return redact_url(url)
