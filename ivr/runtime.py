"""Running the engine for a shell: lookups performed, flow switches followed, failures
turned into a person.

Every shell (webhooks, simulator, media socket, benchmarks) calls ``advance`` with the
session and an event and gets back the session and the actions that end in something the
caller waits on (a prompt, a transfer, a recording, a hang-up). ``advance`` never raises
for a problem of the call: a broken back end is routed by the flow, and anything
unexpected becomes "Sorry ... let me get you to someone" and a transfer.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from ivr.engine import engine
from ivr.engine.actions import Action, DataLookup, Hangup, Speak, SwitchFlow, Transfer
from ivr.engine.events import CallStarted, Event, LookupResult
from ivr.engine.session import Session
from ivr.flows.library import FlowLibrary
from ivr.flows.model import Flow

log = logging.getLogger(__name__)
Lookup = Callable[[DataLookup, datetime], LookupResult]
APOLOGY = "Sorry, something went wrong on our side. Let me get you to someone who can help."
MAX_SWITCHES = 5


@dataclass
class Outcome:
    session: Session
    actions: list[Action]
    flow: Flow


def advance(library: FlowLibrary, session: Session | None, event: Event, lookup: Lookup) -> Outcome:
    """Step the call and carry out the engine's own follow-ups (lookups, flow switches)."""
    flow = library.for_number(event.to) if session is None and isinstance(event, CallStarted) \
        else library.pinned(session.flow, session.flow_version)
    try:
        session, actions = engine.step(flow, session, event)
        return _follow(library, flow, session, actions, event.at, lookup)
    except engine.UnexpectedEvent as exc:
        log.info("call %s: %s; repeating the current prompt", getattr(session, "call_sid", "?"), exc)
        if session is None:
            raise
        again, actions = engine.resume(flow, session, event.at)
        return Outcome(again, actions, flow)
    except Exception:  # a bug or a broken flow must not leave the caller in silence
        sid = session.call_sid if session else getattr(event, "call_sid", "?")
        log.exception("call %s: the engine failed at node %r", sid, getattr(session, "node", None))
        if session is None:
            session = engine.new_session(flow, event)
        return rescue(flow, session, event.at)


def _follow(library: FlowLibrary, flow: Flow, session: Session, actions: list[Action], at: datetime,
            lookup: Lookup) -> Outcome:
    said: list[Action] = []
    for _ in range(MAX_SWITCHES * 10):
        last = actions[-1] if actions else None
        if isinstance(last, DataLookup):
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


def rescue(flow: Flow, session: Session, at: datetime, reason: str = "A technical problem in the call flow") -> Outcome:
    """Apologise and hand the caller to the flow's operator target."""
    from ivr.engine.call import Call

    call = Call(flow, session.evolve(phase="listening"), at, engine._enter)
    try:
        call.speak(APOLOGY)
        call.escalate(reason, to=flow.operator.to)
        if isinstance(call.actions[-1], (Transfer,)) or call.session.phase in ("recording",):
            return Outcome(call.session, call.actions, flow)
    except Exception:
        log.exception("call %s: could not reach the operator node", session.call_sid)
    return Outcome(session.evolve(phase="ended", outcome="error"),
                   [Speak(APOLOGY.split(".")[0] + ". Please call again in a few minutes. Goodbye.",
                          language=flow.language, voice=flow.voice), Hangup()], flow)
