"""Figures for pictures: the line's days (containment and abandonment over time), the
satisfaction scores, and the heat of a flow (how often callers gave up or failed at each
node, and how many calls took each way from one node to the next).

    daily(conn, since, until, flow)    -> [{"day": "2026-11-24", "calls": 12, "contained": 7, ...}, ...]
    csat_scores(conn, since, until, flow) -> {1: 0, 2: 1, 3: 0, 4: 3, 5: 5}
    heat(conn, since, until, flow)     -> Heat(nodes={node: NodeHeat}, edges={(a, b): calls}, calls=N)

Rules of this file: the same window as ``report`` (a call belongs by its start, in
[since, until), aware UTC); days are UTC days. Node figures are SQL aggregates over
``call_nodes``; the ways between nodes are read from each call's ``path`` (JSON, read
row by row: a window of many calls costs a scan, so ``heat`` stops after ``limit`` calls
and says so). The flow drawing (``ivr.flows.graph``) gets these numbers, never the
database.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import Connection, Date, and_, cast, func, select

from .report import _window
from .schema import call_nodes, calls

__all__ = ["daily", "csat_scores", "heat", "Heat", "NodeHeat", "HEAT_LIMIT"]

HEAT_LIMIT = 200_000


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
    capped: bool = False  # the ways were read from the newest ``HEAT_LIMIT`` calls only


def heat(conn: Connection, flow: str, since: datetime | None = None, until: datetime | None = None,
         limit: int = HEAT_LIMIT) -> Heat:
    """The heat of ``flow`` (every version) over the calls that started in [since, until)."""
    n = call_nodes.c
    nodes_query = (select(n.node, func.count().label("entered"), func.sum(n.visits).label("visits"),
                          func.sum(n.no_input).label("no_input"), func.sum(n.no_match).label("no_match"),
                          func.count().filter(n.hung_up.is_(True)).label("hung_up"))
                   .where(*_window(n.started_at, n.flow, since, until, flow)).group_by(n.node))
    nodes = {row.node: NodeHeat(int(row.entered), int(row.visits), int(row.no_input), int(row.no_match),
                                int(row.hung_up)) for row in conn.execute(nodes_query)}
    c = calls.c
    where = _window(c.started_at, c.flow, since, until, flow)
    total = int(conn.execute(select(func.count()).select_from(calls).where(*where)).scalar_one())
    ways: Counter[tuple[str, str]] = Counter()
    paths = select(c.path).where(*where).order_by(c.started_at.desc()).limit(limit)
    for (path,) in conn.execute(paths.execution_options(yield_per=2000)):
        taken = set()
        steps = [visit.get("node", "") for visit in path or [] if isinstance(visit, dict)]
        for here, there in pairwise(steps):
            if here and there and here != there:
                taken.add((here, there))
        ways.update(taken)  # calls that went that way, once per call
    return Heat(total, nodes, dict(ways), capped=total > limit)
