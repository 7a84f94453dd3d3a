"""The support line as the web shells see it: flows, store and lookups around the engine.

``Line.apply`` is the one way an event reaches a call: load the call from the store,
advance the engine, save with a version check (a concurrent request for the same call
makes one of them re-run on the fresh state: nothing is lost), append the event to the
call's log. It returns what the caller should get next.

Rules of this file: what is saved per call is ``{"session": ..., "seq": N, ...}``. ``seq``
counts applied prompt answers; every Gather action URL carries the ``seq`` it was
rendered at, so a duplicate or late answer (a retried webhook, a speech redirect racing
a key press) is recognised and answered with the current prompt instead of being applied
twice.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from ivr import engine
from ivr.model.actions import Action, DataLookup, Listen
from ivr.model.events import CallEnded, CallStarted, Event, LookupResult, TransferResult
from ivr.model.context import MASK
from ivr.model.session import Session
from ivr.flows.library import FlowLibrary
from ivr.model.flow import Flow
from ivr.runtime import advance
from ivr.store import SessionStore

log = logging.getLogger(__name__)
Lookup = Callable[[DataLookup, datetime], LookupResult]


@dataclass
class Applied:
    session: Session
    actions: list[Action]
    flow: Flow
    seq: int
    data: dict[str, Any]
    stale: bool = False  # the request was a duplicate: nothing changed


def event_record(event: Event, secret: bool = False) -> dict[str, Any]:
    """An event as a log line. ``secret``: the answer was to a secret prompt (a PIN, a card
    number), so the keys and words are masked: they never reach the event log."""
    out: dict[str, Any] = {"type": type(event).__name__}
    for key, value in vars(event).items():
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    if secret:
        for key in ("digits", "text"):
            if out.get(key):
                out[key] = MASK
    return out


def answers_secret(flow: Flow, session: Session) -> bool:
    """Whether the call is waiting at a prompt whose answer must not be logged."""
    node = flow.nodes.get(session.node)
    slot = getattr(node, "slot", None)
    return session.phase in ("listening", "confirming") and bool(getattr(slot, "secret", False))


class Line:
    def __init__(self, library: FlowLibrary, store: SessionStore, lookup: Lookup):
        self.library = library
        self.store = store
        self.lookup = lookup

    def start(self, event: CallStarted) -> Applied:
        """A new call (or Twilio's retry of the same incoming-call webhook)."""
        holder: dict[str, Any] = {}

        def change(current):
            if current is not None:  # a retried incoming-call webhook: answer with where the call is
                holder.update(applied=self._where_it_is(current.data, event.at))
                return None
            outcome = advance(self.library, None, event, self.lookup)
            data = with_summary({"seq": 1, "stream_secret": secrets.token_urlsafe(18), "streaming": False},
                                outcome.session, outcome.actions)
            holder.update(applied=Applied(outcome.session, outcome.actions, outcome.flow, 1, data))
            return data

        self.store.update(event.call_sid, change)
        applied = holder["applied"]
        if not applied.stale:
            self.store.append_event(event.call_sid, event_record(event))
            self.publish(applied)
        return applied

    def apply(self, call_sid: str, event: Event, seq: int | None = None,
              extra: dict[str, Any] | None = None) -> Applied | None:
        """Apply ``event`` to a live call; None when the call is unknown."""
        holder: dict[str, Any] = {}

        def change(current):
            if current is None:
                return None
            data = current.data
            session = Session.from_dict(data["session"])
            flow = self.library.pinned(session.flow, session.flow_version)
            if (seq is not None and seq != data.get("seq")) or session.phase == "ended":
                # a duplicate, late or replayed request (an ended call stays ended): change nothing
                holder.update(applied=self._where_it_is(data, event.at))
                return None
            outcome = advance(self.library, session, event, self.lookup)
            new = with_summary({**data, **(extra or {}), "seq": data.get("seq", 0) + 1}, outcome.session,
                               outcome.actions)
            new.pop("pending_speech", None)
            holder.update(applied=Applied(outcome.session, outcome.actions, outcome.flow, new["seq"], new))
            holder.update(secret=answers_secret(flow, session))
            return new

        self.store.update(call_sid, change)
        applied = holder.get("applied")
        if applied is not None and not applied.stale:
            self.store.append_event(call_sid, event_record(event, holder.get("secret", False)))
            if applied.session.phase == "ended" or isinstance(event, CallEnded):
                self.store.finish(call_sid, applied.session.outcome or "ended")
            self.publish(applied)
        return applied

    def publish(self, applied: Applied) -> None:
        """Tell every console (on every host) where this call is now. Never fails a call."""
        try:
            self.store.bus.publish(CONSOLE_CHANNEL, call_card(applied.flow, applied.session))
        except Exception:  # the console is a view; a bus outage must not hurt the caller
            log.warning("call %s: could not publish to the console", applied.session.call_sid, exc_info=True)

    def agent_answer(self, call_sid: str, attempt: str, accept: bool, at: datetime, by: str = "") -> str:
        """An agent takes (``accept``) or passes on the transfer attempt ``attempt``, by
        whisper key or console button: ``accepted``, ``declined`` or ``gone`` (the call is
        no longer waiting for that attempt)."""
        loaded = self.load(call_sid)
        if loaded is None or loaded[0].phase != "transfer" or str(loaded[0].transfer_attempt) != str(attempt):
            return "gone"
        if accept:
            applied = self.apply(call_sid, TransferResult(at, "answered", by))
            return "accepted" if applied is not None and applied.session.phase == "connected" else "gone"
        self.mark(call_sid, declined_attempt=str(attempt))
        self.store.append_event(call_sid, {"type": "TransferDeclined", "attempt": str(attempt), "by": by,
                                           "at": at.isoformat()})
        return "declined"

    def replay(self, call_sid: str, at: datetime) -> Applied | None:
        """Where the call is now (its current prompt, transfer or recording), changing
        nothing: for a caller redirected back to us, or a retried webhook."""
        stored = self.store.load(call_sid)
        return None if stored is None else self._where_it_is(stored.data, at)

    def _where_it_is(self, data: dict[str, Any], at: datetime) -> Applied:
        session = Session.from_dict(data["session"])
        flow = self.library.pinned(session.flow, session.flow_version)
        again, actions = engine.resume(flow, session, at)
        return Applied(again, actions, flow, data.get("seq", 0), data, stale=True)

    def mark(self, call_sid: str, **fields: Any) -> None:
        """Merge ``fields`` into the call's saved data (not its session)."""
        self.store.update(call_sid, lambda cur: None if cur is None else {**cur.data, **fields})

    def load(self, call_sid: str) -> tuple[Session, dict[str, Any]] | None:
        stored = self.store.load(call_sid)
        if stored is None:
            return None
        return Session.from_dict(stored.data["session"]), stored.data


CONSOLE_CHANNEL = "ivr.calls"


def call_card(flow: Flow, session: Session) -> dict[str, Any]:
    """What the agent console shows of a call: a summary, and the full context record
    while a person is being sought."""
    card: dict[str, Any] = {"call_sid": session.call_sid, "flow": session.flow, "node": session.node,
                            "phase": session.phase, "score": round(session.score, 2), "caller": session.caller,
                            "outcome": session.outcome, "reasons": [r.detail for r in session.reasons]}
    if session.phase == "transfer":
        from ivr.model.context import build_context, summary

        node = flow.nodes.get(session.node)
        targets = getattr(node, "targets", ())
        index = session.transfer_attempt - 1
        context = build_context(flow, session)
        card.update(attempt=session.transfer_attempt, target=targets[index] if 0 <= index < len(targets) else "",
                    context=context, summary=summary(context))
    return card


def with_summary(data: dict[str, Any], session: Session, actions: list[Action] | None = None) -> dict[str, Any]:
    """The saved data with the fields a store indexes for listings (flow, node, score...)
    and what the recogniser should expect now (the media socket reads it)."""
    listen = next((a for a in (actions or []) if isinstance(a, Listen)), None)
    return {**data, "session": session.to_dict(), "flow": session.flow, "node": session.node,
            "phase": session.phase, "score": session.score, "caller": session.caller, "outcome": session.outcome,
            "listen_phrases": list(listen.phrases) if listen else [], "listening": listen is not None}


def now() -> datetime:
    return datetime.now(timezone.utc)
