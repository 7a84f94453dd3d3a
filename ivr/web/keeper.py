"""The record keeper: when a call ends, its durable record goes to the call records.

``Line`` calls ``call_ended`` once, from the request that ended the call, after the store
has the final session. Building and writing the record (``ivr.records``: SQLite by
default, PostgreSQL with ``IVR_RECORDS_URL``) runs on the background pool, so a slow or
unreachable records database never holds a caller's webhook; a failure is logged with
the call id and the hot store keeps the call's state until it expires.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from ivr.model.flow import Flow
from ivr.model.session import Session
from ivr.store import SessionStore

if TYPE_CHECKING:
    from ivr.records import Records

    from .services import Background
    from .worklists import WorklistDesk

__all__ = ["RecordKeeper", "open_keeper"]

log = logging.getLogger(__name__)


class RecordKeeper:
    def __init__(self, records: Records, store: SessionStore, background: Background) -> None:
        self.records, self.store, self.background = records, store, background
        self.worklists: WorklistDesk | None = None  # files the call's voicemail and callback promise

    def call_ended(self, call_sid: str, flow: Flow, session: Session, at: datetime) -> None:
        self.background.submit(f"keeping the record of call {call_sid}", self.keep, call_sid, flow, session, at)

    def _wrap_up_meanwhile(self, call_sid: str) -> None:
        """An agent's wrap-up given while the record was being written (the console found
        no record yet): put the last one on the record now."""
        answer = next((e for e in reversed(self.store.events(call_sid)) if e.get("type") == "WrapUp"), None)
        if answer is not None and answer.get("at"):
            self.records.wrap_up(call_sid, str(answer.get("code", "")), str(answer.get("by", "")),
                                 bool(answer.get("needed_person")), datetime.fromisoformat(str(answer["at"])))

    def keep(self, call_sid: str, flow: Flow, session: Session, at: datetime) -> None:
        from ivr.records import build_record

        try:
            self.records.write(build_record(flow, session, self.store.events(call_sid), at))
            self._wrap_up_meanwhile(call_sid)
        except Exception:  # the records are a report: a failure must not touch the call
            log.exception("call %s: its record could not be kept", call_sid)
        if self.worklists is not None:  # a voicemail or a callback promise is work for a person
            self.worklists.file(session, at)


def open_keeper(url: str, store: SessionStore, background: Background) -> RecordKeeper | None:
    """A keeper writing to ``url``, or None (logged) when the records cannot be opened:
    calls go on, unrecorded, and ``ivr doctor`` says why."""
    try:
        from ivr.records import open_records

        return RecordKeeper(open_records(url), store, background)
    except Exception as exc:  # a missing driver, an unreachable server, a bad URL
        log.error("call records are off: cannot open %s (%s: %s); set IVR_RECORDS_URL or fix the database",
                  _redacted(url), type(exc).__name__, exc)
        return None


def _redacted(url: str) -> str:
    from ivr.settings import redact_url

    return redact_url(url)
