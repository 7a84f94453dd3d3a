"""The line's worklists, kept with the call records: voicemails callers left and
callbacks the line promised, each open until an agent marks it done.

    lists = Worklists(records.engine)
    for new in items_from_call(session, ended_at):     # what a finished call leaves behind
        item, created = lists.add(new)
    lists.open_items("callback")                       # oldest first; overdue ones first
    lists.mark_done(item.id, by="alice", at=now)
    lists.set_transcript(call_sid, "Hi, it's about my order", "twilio", now)
    lists.attempt_started(item.id, "CA...", by="alice", at=now)   # a call back placed
    lists.attempt_ended("CA...", "reached")                        # how it went

Rules of this file: one item per call and kind at most (``uq_work_items_call_kind``), so
a call's end reported twice, or a transcript arriving before the call's end was filed,
updates the same row: ``add`` fills in what the call left and keeps what arrived
separately (the transcript, the status). Times go in as aware UTC. The caller's number
is in the row (an agent calls it back); ``public`` is what may leave the console (the
signed notification): never the number, the recording's URL or the transcript.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ivr.model.session import Session

from .schema import calls, work_items

__all__ = ["WorkItem", "Worklists", "items_from_call", "purge_items", "forget_items", "KINDS", "OUTCOMES",
           "outcome_of_dial"]

KINDS = ("voicemail", "callback")
# How a call back went: the agent's leg never answered, or the caller's leg as Twilio's <Dial> reports it
OUTCOMES = ("calling", "reached", "no-answer", "busy", "failed", "agent-missed")
DIALLABLE = re.compile(r"\+[1-9][0-9]{6,14}")
_ARRIVAL = ("flow", "caller", "line_number", "created_at", "due_at", "recording_url", "duration_s")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class WorkItem:
    """One voicemail or callback promise."""

    id: int
    kind: str
    call_sid: str
    flow: str
    caller: str
    line_number: str
    created_at: datetime
    due_at: datetime | None
    recording_url: str | None
    duration_s: float | None
    transcript: str | None
    transcript_source: str | None
    status: str
    done_by: str | None
    done_at: datetime | None
    attempt_sid: str | None
    attempt_by: str | None
    attempt_at: datetime | None
    outcome: str | None

    @classmethod
    def of(cls, row: Mapping[Any, Any]) -> WorkItem:
        values = dict(row)
        for name in ("created_at", "due_at", "done_at", "attempt_at"):  # SQLite gives them back without a zone
            if values[name] is not None:
                values[name] = _utc(values[name])
        return cls(**values)

    @property
    def reachable(self) -> bool:
        """Whether the caller's number can be dialled (E.164; not withheld or "anonymous")."""
        return bool(DIALLABLE.fullmatch(self.caller))

    def overdue(self, now: datetime) -> bool:
        """An open callback whose due time has passed."""
        return self.kind == "callback" and self.status == "open" and self.due_at is not None and self.due_at < _utc(now)

    def public(self) -> dict[str, Any]:
        """What may leave the console (the worklist notification): no number, recording
        or transcript; a signed-in agent opens the item in the console to see those."""
        return {"id": self.id, "kind": self.kind, "call_sid": self.call_sid, "flow": self.flow,
                "created_at": self.created_at.isoformat(),
                "due_at": self.due_at.isoformat() if self.due_at else None,
                "duration_s": self.duration_s, "status": self.status}


def items_from_call(session: Session, ended_at: datetime) -> list[dict[str, Any]]:
    """The worklist items a finished call leaves: its voicemail (a recording with a URL)
    and its callback promise (made only once the caller heard it: ``callback`` node)."""
    base = {"call_sid": session.call_sid, "flow": session.flow, "caller": session.caller,
            "line_number": session.to}
    out: list[dict[str, Any]] = []
    recording = dict(session.recording or {})
    if str(recording.get("url", "")).strip():
        out.append({**base, "kind": "voicemail", "created_at": _utc(ended_at), "due_at": None,
                    "recording_url": str(recording["url"]), "duration_s": _seconds(recording.get("duration"))})
    promise = dict(session.callback or {})
    if promise:
        promised = _moment(promise.get("promised_at")) or _utc(ended_at)
        out.append({**base, "kind": "callback", "caller": str(promise.get("number") or session.caller),
                    "created_at": promised, "due_at": _moment(promise.get("due_by")), "recording_url": None,
                    "duration_s": None})
    return out


def _moment(value: Any) -> datetime | None:
    try:
        return _utc(datetime.fromisoformat(str(value))) if value else None
    except ValueError:
        return None


def _seconds(value: Any) -> float | None:
    try:
        return round(float(value), 1) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def outcome_of_dial(status: str) -> str:
    """A call back's outcome from the caller leg's ``DialCallStatus`` (Twilio's words)."""
    return {"completed": "reached", "answered": "reached", "busy": "busy", "no-answer": "no-answer",
            "canceled": "no-answer"}.get(status, "failed")


class Worklists:
    """The voicemail and callback lists of the line (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, item: Mapping[str, Any]) -> tuple[WorkItem, bool]:
        """File a voicemail or callback (``items_from_call``); returns the item and whether
        it is new (False: this call's item was filed already, and is only brought up to date)."""
        if item["kind"] not in KINDS:
            raise ValueError(f"a worklist item is a voicemail or a callback, not {item['kind']!r}")
        arrival: dict[str, Any] = {k: item.get(k) for k in _ARRIVAL}
        arrival["created_at"] = _utc(item["created_at"])
        for attempt in range(2):  # two hosts filing the same call at once: the second updates
            with self.engine.begin() as conn:
                old = self._find(conn, item["call_sid"], item["kind"])
                if old is None:
                    try:
                        with conn.begin_nested():
                            new_id = conn.execute(insert(work_items).values(
                                kind=item["kind"], call_sid=item["call_sid"], status="open", **arrival)
                                .returning(work_items.c.id)).scalar_one()
                    except IntegrityError:
                        if attempt:
                            raise
                        continue
                    return self._get(conn, new_id), True
                # filed before: by a repeated end of call, or as a transcript that came first
                placeholder = old.kind == "voicemail" and not old.recording_url
                conn.execute(update(work_items).where(work_items.c.id == old.id).values(**arrival))
                return self._get(conn, old.id), placeholder
        raise RuntimeError("unreachable")  # pragma: no cover

    def get(self, item_id: int) -> WorkItem | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(work_items).where(work_items.c.id == item_id)).mappings().first()
        return WorkItem.of(row) if row else None

    def items(self, kind: str, status: str = "open", limit: int = 200) -> list[WorkItem]:
        """A list: ``status`` open (callbacks by due time, voicemails oldest first), done
        (newest first) or all. A voicemail whose recording has not been filed yet (its
        transcript came first) is left out."""
        w = work_items.c
        query = select(work_items).where(w.kind == kind)
        if kind == "voicemail":
            query = query.where(w.recording_url.is_not(None))
        if status in ("open", "done"):
            query = query.where(w.status == status)
        if status == "open":
            query = query.order_by(w.due_at if kind == "callback" else w.created_at, w.id)
        else:
            query = query.order_by(w.done_at.desc() if status == "done" else w.created_at.desc(), w.id.desc())
        with self.engine.connect() as conn:
            return [WorkItem.of(row) for row in conn.execute(query.limit(limit)).mappings()]

    def mark_done(self, item_id: int, by: str, at: datetime) -> bool:
        """Close an open item; False when it is not open (done already, or gone)."""
        w = work_items.c
        with self.engine.begin() as conn:
            done = conn.execute(update(work_items).where(w.id == item_id, w.status == "open")
                                .values(status="done", done_by=by, done_at=_utc(at)))
            return bool(done.rowcount)

    def set_transcript(self, call_sid: str, text: str, source: str, at: datetime) -> bool:
        """Keep a voicemail's transcript. Returns True when the voicemail was on file; when
        it is not yet (the transcript came first), a placeholder keeps the text until the
        call's end files the recording (``add``)."""
        w = work_items.c
        text = text.strip()
        if not text:
            return False
        with self.engine.begin() as conn:
            changed = conn.execute(update(work_items).where(w.call_sid == call_sid, w.kind == "voicemail")
                                   .values(transcript=text, transcript_source=source)).rowcount
            if changed:
                return True
            try:
                with conn.begin_nested():
                    conn.execute(insert(work_items).values(kind="voicemail", call_sid=call_sid, created_at=_utc(at),
                                                           transcript=text, transcript_source=source, status="open"))
            except IntegrityError:  # filed meanwhile by the call's end
                conn.execute(update(work_items).where(w.call_sid == call_sid, w.kind == "voicemail")
                             .values(transcript=text, transcript_source=source))
            return False

    def attempt_started(self, item_id: int, attempt_sid: str, by: str, at: datetime) -> None:
        """A call back was placed for the item (``attempt_sid``: the agent's leg)."""
        with self.engine.begin() as conn:
            conn.execute(update(work_items).where(work_items.c.id == item_id).values(
                attempt_sid=attempt_sid, attempt_by=by, attempt_at=_utc(at), outcome="calling"))

    def attempt_ended(self, attempt_sid: str, outcome: str, *, only_if_calling: bool = False) -> WorkItem | None:
        """How the call back ``attempt_sid`` went; None when no item has that attempt (a
        late callback for an attempt that a newer one replaced). ``only_if_calling``: keep
        an outcome already known (the agent leg's end after the caller leg's result)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown call-back outcome {outcome!r}")
        w = work_items.c
        where = [w.attempt_sid == attempt_sid]
        if only_if_calling:
            where.append(w.outcome == "calling")
        with self.engine.begin() as conn:
            conn.execute(update(work_items).where(*where).values(outcome=outcome))
            row = conn.execute(select(work_items).where(w.attempt_sid == attempt_sid)).mappings().first()
        return WorkItem.of(row) if row else None

    def counts(self, now: datetime) -> dict[str, int]:
        """Open voicemails, open callbacks, and of those the overdue ones."""
        out = {"voicemail": 0, "callback": 0, "overdue": 0}
        for kind in KINDS:
            for item in self.items(kind, "open", limit=10_000):
                out[kind] += 1
                out["overdue"] += item.overdue(now)
        return out

    @staticmethod
    def _find(conn: Connection, call_sid: str, kind: str) -> WorkItem | None:
        row = conn.execute(select(work_items).where(work_items.c.call_sid == call_sid, work_items.c.kind == kind)
                           ).mappings().first()
        return WorkItem.of(row) if row else None

    @staticmethod
    def _get(conn: Connection, item_id: int) -> WorkItem:
        return WorkItem.of(conn.execute(select(work_items).where(work_items.c.id == item_id)).mappings().one())


def purge_items(conn: Connection, cutoff: datetime) -> int:
    """Delete worklist items filed before ``cutoff`` (open or done): the retention period."""
    return conn.execute(delete(work_items).where(work_items.c.created_at < _utc(cutoff))).rowcount


def forget_items(conn: Connection, number: str) -> int:
    """Delete the worklist items of one caller: those naming the number, and those of
    their calls (call it before their calls' records are deleted)."""
    w = work_items.c
    theirs = select(calls.c.call_sid).where(calls.c.caller == number)
    return conn.execute(delete(work_items).where(or_(w.caller == number, w.call_sid.in_(theirs)))).rowcount
