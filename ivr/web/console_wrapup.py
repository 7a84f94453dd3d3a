"""The agent's wrap-up in the console: after a call, the agent says what it was about (a
code from the flow's ``wrap_up:`` list) and whether it needed a person at all.

``POST /console/calls/<call_sid>/wrap-up`` (fields ``code``, ``needed_person`` = yes|no,
``csrf_token``) on the console's blueprint, so the console's sign-in and CSRF guard
apply. The call page shows the form (``_wrap_up.html``) to an agent the call was offered
to; anyone else gets 403. Answering again replaces the answer (the last word counts, and
names who gave it).

Rules of this file: the answer goes to the call's event log first (``WrapUp``: code,
agent, yes/no, time; nothing the caller said), then onto the call's record if it is
written already. A call still in its survey has no record yet: the record keeper reads
the event log when it writes the record, and looks again once it has written it
(``RecordKeeper.keep``), so an answer given at any moment reaches the record. Every
read and write of the records here runs through ``ivr.records.native`` (off a gevent
worker's loop).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flask import abort, flash, g, redirect, request, url_for

from ivr.model.flow import DEFAULT_WRAP_UP
from ivr.records import native

from .console import bp
from .live import LiveCall
from .services import services

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["wrap_up_of", "offered_targets"]

log = logging.getLogger(__name__)
ANSWERS = {"yes": True, "no": False}


def offered_targets(call_sid: str) -> list[str]:
    """The transfer targets the call rang: from the live call, else from its record."""
    parts = services()
    live = LiveCall.load(parts.store, call_sid)
    if live is not None:
        session = live.session
        targets = [str(t.get("target", "")) for t in session.transfers]
        node = parts.line.library.pinned(session.flow, session.flow_version).nodes.get(session.node) \
            if session.transfer_attempt else None
        listed: Sequence[str] = getattr(node, "targets", ())
        if 0 < session.transfer_attempt <= len(listed):
            targets.append(listed[session.transfer_attempt - 1])
        return [t for t in targets if t]
    keeper = parts.keeper
    return [] if keeper is None else native.run(_targets_on_record, keeper.records.engine, call_sid)


def _targets_on_record(engine: Engine, call_sid: str) -> list[str]:
    from sqlalchemy import select

    from ivr.records.schema import call_transfers, calls

    with engine.connect() as conn:
        rows = conn.execute(select(call_transfers.c.agent).join(calls, calls.c.id == call_transfers.c.call_id)
                            .where(calls.c.call_sid == call_sid))
        return [str(r.agent) for r in rows]


def _codes(call_sid: str) -> tuple[str, ...]:
    parts = services()
    live = LiveCall.load(parts.store, call_sid)
    try:
        if live is not None:
            return parts.line.library.pinned(live.session.flow, live.session.flow_version).wrap_up
        flow = _flow_on_record(call_sid)
        return parts.line.library.current(flow).wrap_up if flow else DEFAULT_WRAP_UP
    except Exception:  # a flow that is gone: the default list
        return DEFAULT_WRAP_UP


def _flow_on_record(call_sid: str) -> str:
    keeper = services().keeper
    return "" if keeper is None else native.run(_flow_of, keeper.records.engine, call_sid)


def _flow_of(engine: Engine, call_sid: str) -> str:
    from sqlalchemy import select

    from ivr.records.schema import calls

    with engine.connect() as conn:
        return str(conn.execute(select(calls.c.flow).where(calls.c.call_sid == call_sid)).scalar() or "")


def _last_answer(call_sid: str) -> dict[str, Any] | None:
    events = services().store.events(call_sid)
    found = next((e for e in reversed(events) if e.get("type") == "WrapUp"), None)
    if found is not None:
        return found
    keeper = services().keeper
    return None if keeper is None else native.run(_answer_on_record, keeper.records.engine, call_sid)


def _answer_on_record(engine: Engine, call_sid: str) -> dict[str, Any] | None:
    from sqlalchemy import select

    from ivr.records.schema import calls

    c = calls.c
    with engine.connect() as conn:
        row = conn.execute(select(c.disposition, c.disposition_by, c.needed_person, c.disposition_at)
                           .where(c.call_sid == call_sid)).first()
    if row is None or row.disposition is None:
        return None
    return {"code": row.disposition, "by": row.disposition_by, "needed_person": row.needed_person,
            "at": row.disposition_at.isoformat() if row.disposition_at else ""}


def wrap_up_of(call_sid: str) -> dict[str, Any] | None:
    """What the call page's wrap-up form shows, or None when this agent may not give one."""
    agent = g.get("agent")
    try:
        if agent is None or not any(agent.offered(t) for t in offered_targets(call_sid)):
            return None
        return {"codes": _codes(call_sid), "last": _last_answer(call_sid)}
    except Exception:  # the form is a help; a records outage must not break the call page
        log.warning("console: the wrap-up of %s cannot be shown", call_sid, exc_info=True)
        return None


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {"wrap_up_of": wrap_up_of}


@bp.post("/calls/<call_sid>/wrap-up")
def wrap_up(call_sid: str):
    agent = g.agent
    code = " ".join(request.form.get("code", "").split())
    needed = ANSWERS.get(request.form.get("needed_person", ""))
    if not any(agent.offered(t) for t in offered_targets(call_sid)):
        log.warning("console: %s tried to wrap up call %s, which was not offered to them", agent.name, call_sid)
        abort(403, "This call was not offered to you.")
    codes = _codes(call_sid)
    if code not in codes:
        abort(400, f"Choose one of: {', '.join(codes)}.")
    if needed is None:
        abort(400, "Say whether this call needed a person: yes or no.")
    parts = services()
    at = parts.now()
    parts.store.append_event(call_sid, {"type": "WrapUp", "code": code, "by": agent.name, "needed_person": needed,
                                        "at": at.isoformat()})
    on_record = False
    if parts.keeper is not None:
        try:
            on_record = native.run(parts.keeper.records.wrap_up, call_sid, code, agent.name, needed, at)
        except Exception as exc:  # kept in the event log: the record keeper files it when it can
            log.warning("console: the wrap-up of %s could not reach the records (%s)", call_sid, type(exc).__name__)
    log.info("console: %s wrapped up call %s as %r (needed a person: %s)%s", agent.name, call_sid, code,
             "yes" if needed else "no", "" if on_record else "; the record follows when the call ends")
    message = f"Wrap-up saved: {code}; needed a person: {'yes' if needed else 'no'}."
    if "application/json" in request.headers.get("Accept", ""):
        return {"code": code, "needed_person": needed, "by": agent.name, "message": message}
    flash(message)
    return redirect(url_for(".call_detail", call_sid=call_sid))
