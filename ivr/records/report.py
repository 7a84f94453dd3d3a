"""The line's figures: how many calls were served without a person, why the others went
to one, where callers struggled or gave up, how agents answered, what callers thought.

``report(conn, since, until, flow)`` returns one JSON-able dict; each figure is a SQL
aggregate (three queries: calls, nodes, agents), so a report over a million calls reads
no record into Python. The definitions, and the contact-centre conventions they follow,
are in docs/REPORTS.md; keep the two in step.

Rules of this file: a call belongs to a report by the moment it started, in the window
[since, until) (both optional, aware UTC); the node and agent tables carry the call's
start and flow, so each query reads one table. Rates are None when there are no calls.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, select

from .record import OUTCOMES, REASON_KINDS
from .schema import call_nodes, call_transfers, calls

__all__ = ["report", "MISSED"]

# How an attempt ended when the agent never picked up (not a pass: the phone did not answer)
MISSED = ("busy", "no-answer", "failed", "canceled", "caller_hung_up")


def _window(started_at: Any, flow_column: Any, since: datetime | None, until: datetime | None,
            flow: str | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if since is not None:
        where.append(started_at >= since)
    if until is not None:
        where.append(started_at < until)
    if flow:
        where.append(flow_column == flow)
    return where


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _num(value: Any, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def report(conn: Connection, since: datetime | None = None, until: datetime | None = None,
           flow: str | None = None) -> dict[str, Any]:
    """Figures for the calls that started in [since, until), of one flow or all."""
    out: dict[str, Any] = {"since": since.isoformat() if since else None,
                           "until": until.isoformat() if until else None, "flow": flow}
    out.update(_calls(conn, since, until, flow))
    out["nodes"] = _nodes(conn, since, until, flow)
    out["agents"] = _agents(conn, since, until, flow)
    return out


def _calls(conn: Connection, since: datetime | None, until: datetime | None, flow: str | None) -> dict[str, Any]:
    c = calls.c
    count = func.count
    columns = [
        count().label("calls"),
        count().filter(and_(c.outcome == "contained", c.transfer_kind.is_(None))).label("contained"),
        count(c.transfer_kind).label("transferred"),
        count(c.answered_by).label("connected"),
        *(count().filter(c.transfer_kind == kind).label(f"kind_{kind}") for kind in REASON_KINDS),
        *(count().filter(c.outcome == outcome).label(f"outcome_{outcome}") for outcome in OUTCOMES),
        count(c.csat).label("csat_responses"),
        func.avg(c.csat).label("csat_average"),
        func.avg(c.duration_s).label("avg_duration_s"),
        func.avg(c.hold_s).label("avg_hold_s"),
    ]
    row = conn.execute(select(*columns).where(*_window(c.started_at, c.flow, since, until, flow))).one()._mapping
    total = int(row["calls"])
    outcomes = {o: int(row[f"outcome_{o}"]) for o in OUTCOMES}
    outcomes["other"] = total - sum(outcomes.values())
    abandoned, on_hold = outcomes["abandoned"], outcomes["abandoned_on_hold"]
    return {
        "calls": total,
        "contained": int(row["contained"]),
        "containment_rate": _rate(int(row["contained"]), total),
        "transferred": int(row["transferred"]),
        "transfer_rate": _rate(int(row["transferred"]), total),
        "connected": int(row["connected"]),
        "transfer_reasons": {kind: int(row[f"kind_{kind}"]) for kind in REASON_KINDS},
        "abandoned": abandoned,
        "abandoned_on_hold": on_hold,
        "abandonment_rate": _rate(abandoned + on_hold, total),
        "hold_abandonment_rate": _rate(on_hold, int(row["transferred"])),
        "outcomes": outcomes,
        "avg_duration_s": _num(row["avg_duration_s"]),
        "avg_hold_s": _num(row["avg_hold_s"]),
        "csat": {"responses": int(row["csat_responses"]), "average": _num(row["csat_average"])},
    }


def _nodes(conn: Connection, since: datetime | None, until: datetime | None, flow: str | None) -> dict[str, Any]:
    n = call_nodes.c
    query = (select(n.node, func.count().label("entered"), func.sum(n.visits).label("visits"),
                    func.sum(n.no_input).label("no_input"), func.sum(n.no_match).label("no_match"),
                    func.count().filter(n.hung_up.is_(True)).label("hung_up"), func.avg(n.spent_s).label("avg_time_s"))
             .where(*_window(n.started_at, n.flow, since, until, flow)).group_by(n.node).order_by(n.node))
    return {row.node: {"entered": int(row.entered), "visits": int(row.visits), "no_input": int(row.no_input),
                       "no_match": int(row.no_match), "hung_up": int(row.hung_up), "avg_time_s": _num(row.avg_time_s)}
            for row in conn.execute(query)}


def _agents(conn: Connection, since: datetime | None, until: datetime | None, flow: str | None) -> dict[str, Any]:
    t = call_transfers.c
    answered = t.status == "answered"
    query = (select(t.agent, func.count().label("offered"), func.count().filter(answered).label("accepted"),
                    func.count().filter(t.status == "declined").label("passed"),
                    func.count().filter(t.status.in_(MISSED)).label("missed"),
                    func.avg(t.rang_s).filter(answered).label("avg_answer_s"))
             .where(*_window(t.started_at, t.flow, since, until, flow)).group_by(t.agent).order_by(t.agent))
    return {row.agent: {"offered": int(row.offered), "accepted": int(row.accepted), "passed": int(row.passed),
                        "missed": int(row.missed), "avg_answer_s": _num(row.avg_answer_s)}
            for row in conn.execute(query)}
