"""Running the engine for a shell: flow switches followed, lookups performed or handed
back, failures turned into a person.

Every shell (webhooks, simulator, media socket, benchmarks) calls ``advance`` with the
session and an event and gets back the session and the actions that end in something the
caller waits on (a prompt, a transfer, a recording, a hang-up). ``advance`` never raises
for a problem of the call: a broken back end is routed by the flow, and anything
unexpected becomes the engine's ``rescue``: an apology and a transfer.

Lookups: with a ``lookup`` function, ``advance`` performs each ``DataLookup`` itself and
goes on (the simulator, the benchmarks). Without one it stops there: the outcome ends in
the ``DataLookup`` (``Outcome.lookup``), and the shell performs it when it suits it (the
webhooks do it outside any store transaction, once per request) and hands the
``LookupResult`` back to ``advance`` as the next event.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ivr import engine
from ivr.flows.library import FlowLibrary
from ivr.model.actions import Action, DataLookup, SwitchFlow
from ivr.model.events import CallStarted, Event, LookupResult
from ivr.model.flow import Flow
from ivr.model.session import Session

__all__ = ["Lookup", "Outcome", "advance"]

log = logging.getLogger(__name__)
Lookup = Callable[[DataLookup, datetime], LookupResult]
MAX_SWITCHES = 5


@dataclass
class Outcome:
    """The call after a step: its session, what the caller gets, and the flow it is in."""

    session: Session
    actions: list[Action]
    flow: Flow

    @property
    def lookup(self) -> DataLookup | None:
        """The lookup the call waits on (only when ``advance`` was given no ``lookup``)."""
        last = self.actions[-1] if self.actions else None
        return last if isinstance(last, DataLookup) else None


def advance(library: FlowLibrary, session: Session | None, event: Event, lookup: Lookup | None = None,
            flow_name: str = "") -> Outcome:
    """Step the call and carry out the engine's own follow-ups (flow switches, and the
    lookups when ``lookup`` is given; otherwise the outcome stops at the first one).
    A call starts in the flow for the dialled number, or in ``flow_name`` when given
    (the simulator calls a flow by its name)."""
    if session is None:
        if not isinstance(event, CallStarted):
            raise engine.UnexpectedEvent(None, event)
        flow = library.current(flow_name) if flow_name else library.for_number(event.to)
    else:
        flow = library.pinned(session.flow, session.flow_version)
    try:
        stepped, actions = engine.step(flow, session, event)
        return _follow(library, flow, stepped, actions, event.at, lookup)
    except engine.UnexpectedEvent as exc:
        log.info("call %s: %s; repeating the current prompt", getattr(session, "call_sid", "?"), exc)
        if session is None:
            raise
        again, actions = engine.resume(flow, session, event.at)
        return Outcome(again, actions, flow)
    except Exception:  # a bug or a broken flow must not leave the caller in silence
        sid = session.call_sid if session else getattr(event, "call_sid", "?")
        log.exception("call %s: the engine failed at node %r", sid, getattr(session, "node", None))
        return Outcome(*engine.rescue(flow, session, event), flow)


def _follow(library: FlowLibrary, flow: Flow, session: Session, actions: list[Action], at: datetime,
            lookup: Lookup | None) -> Outcome:
    said: list[Action] = []
    for _ in range(MAX_SWITCHES * 10):
        last = actions[-1] if actions else None
        if isinstance(last, DataLookup) and lookup is not None:
            said.extend(actions[:-1])
            result = lookup(last, at)
            session, actions = engine.step(flow, session, result)
        elif isinstance(last, SwitchFlow):
            said.extend(actions[:-1])
            flow = library.current(last.flow)
            session, actions = engine.enter_flow(flow, session, at)
        else:
            return Outcome(session, said + actions, flow)
    raise engine.FlowLoop("too many lookups or flow switches in one step")
