"""Figures for pictures: the line's days (containment and abandonment over time), the
satisfaction scores, and the heat of a flow (how often callers gave up or failed at each
node, and how many calls took each way from one node to the next).

    daily(conn, since, until, flow)    -> [{"day": "2026-11-24", "calls": 12, "contained": 7, ...}, ...]
    csat_scores(conn, since, until, flow) -> {1: 0, 2: 1, 3: 0, 4: 3, 5: 5}
    heat(conn, since, until, flow)     -> Heat(nodes={node: NodeHeat}, edges={(a, b): calls}, calls=N)

Rules of this file: the same window as ``report`` (a call belongs by its start, in
[since, until), aware UTC); days are UTC days. Node figures are SQL aggregates over
``call_nodes``, the ways between nodes over ``call_ways`` (written with each call:
``way_rows``), each read by range on its ``started_at``. The flow drawing
(``ivr.flows.graph``) gets these numbers, never the database.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import Connection, Date, and_, cast, func, select

from .record import CallRecord
from .report import _window
from .schema import call_nodes, call_ways, calls

__all__ = ["daily", "csat_scores", "heat", "way_rows", "Heat", "NodeHeat"]

def _day(conn: Connection, column: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)  # SQLite keeps UTC text: its date part is the UTC day


def daily(conn: Connection, since: datetime | None = None, until: datetime | None = None,
          flow: str | None = None) -> list[dict[str, Any]]:
    """Per UTC day with calls: calls, contained, abandoned (in the menus), abandoned on
    hold, transferred, and the containment and abandonment rates."""
    c = calls.c
    day = _day(conn, c.started_at).label("day")
    count = func.count
    query = (select(day, count().label("calls"),
                    count().filter(and_(c.outcome == "contained", c.transfer_kind.is_(None))).label("contained"),
                    count().filter(c.outcome == "abandoned").label("abandoned"),
                    count().filter(c.outcome == "abandoned_on_hold").label("abandoned_on_hold"),
                    count(c.transfer_kind).label("transferred"))
             .where(*_window(c.started_at, c.flow, since, until, flow)).group_by(day).order_by(day))
    out = []
    for row in conn.execute(query):
        total = int(row.calls)
        gone = int(row.abandoned) + int(row.abandoned_on_hold)
        out.append({"day": _iso_day(row.day), "calls": total, "contained": int(row.contained),
                    "abandoned": int(row.abandoned), "abandoned_on_hold": int(row.abandoned_on_hold),
                    "transferred": int(row.transferred),
                    "containment_rate": round(int(row.contained) / total, 4) if total else None,
                    "abandonment_rate": round(gone / total, 4) if total else None})
    return out


def _iso_day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def csat_scores(conn: Connection, since: datetime | None = None, until: datetime | None = None,
                flow: str | None = None) -> dict[int, int]:
    """How many callers gave each satisfaction score, 1 to 5."""
    c = calls.c
    query = (select(c.csat, func.count().label("n")).where(c.csat.is_not(None),
                                                           *_window(c.started_at, c.flow, since, until, flow))
             .group_by(c.csat))
    out = dict.fromkeys(range(1, 6), 0)
    for row in conn.execute(query):
        if int(row.csat) in out:
            out[int(row.csat)] = int(row.n)
    return out


@dataclass(frozen=True)
class NodeHeat:
    """How one node did over the calls that reached it."""

    entered: int  # calls that reached it
    visits: int
    no_input: int
    no_match: int
    hung_up: int  # calls whose caller hung up there

    @property
    def drop_rate(self) -> float:
        """Share of the calls that reached the node whose caller hung up there."""
        return self.hung_up / self.entered if self.entered else 0.0

    @property
    def fail_rate(self) -> float:
        """Silences and misunderstandings per visit."""
        return (self.no_input + self.no_match) / self.visits if self.visits else 0.0


@dataclass(frozen=True)
class Heat:
    """A flow's heat over a window: its nodes, the ways callers took, how many calls."""

    calls: int = 0
    nodes: dict[str, NodeHeat] = field(default_factory=dict)
    edges: dict[tuple[str, str], int] = field(default_factory=dict)  # (from, to) -> calls that went that way


def heat(conn: Connection, flow: str, since: datetime | None = None, until: datetime | None = None) -> Heat:
    """The heat of ``flow`` (every version) over the calls that started in [since, until)."""
    n = call_nodes.c
    nodes_query = (select(n.node, func.count().label("entered"), func.sum(n.visits).label("visits"),
                          func.sum(n.no_input).label("no_input"), func.sum(n.no_match).label("no_match"),
                          func.count().filter(n.hung_up.is_(True)).label("hung_up"))
                   .where(*_window(n.started_at, n.flow, since, until, flow)).group_by(n.node))
    nodes = {row.node: NodeHeat(int(row.entered), int(row.visits), int(row.no_input), int(row.no_match),
                                int(row.hung_up)) for row in conn.execute(nodes_query)}
    c = calls.c
    total = int(conn.execute(select(func.count()).select_from(calls)
                             .where(*_window(c.started_at, c.flow, since, until, flow))).scalar_one())
    w = call_ways.c
    ways_query = (select(w.here, w.there, func.count().label("calls"))
                  .where(*_window(w.started_at, w.flow, since, until, flow)).group_by(w.here, w.there))
    ways = {(row.here, row.there): int(row.calls) for row in conn.execute(ways_query)}
    return Heat(total, nodes, ways)


def way_rows(record: CallRecord, call_id: int) -> list[dict[str, Any]]:
    """One ``call_ways`` row per way the call took from one node to another (once each)."""
    steps = [visit.node for visit in record.path]
    taken = dict.fromkeys((here, there) for here, there in pairwise(steps) if here and there and here != there)
    started = record.started_at.astimezone(UTC) if record.started_at.tzinfo else record.started_at.replace(tzinfo=UTC)
    return [{"call_id": call_id, "here": here, "there": there, "started_at": started, "flow": record.flow}
            for here, there in taken]
