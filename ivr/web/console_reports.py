"""The console's reports page, ``/console/reports``: per flow and period, containment
and abandonment over the days, why callers went to a person, what callers scored, and
the flow drawn as a heat map (each node filled by how often callers hung up or failed
there, each way as thick as the calls that took it).

  GET /console/reports?flow=acme-support&from=2026-11-01&to=2026-11-30
  GET /console/reports/heat.svg?flow=acme-support&from=...&to=...   the heat map alone

Signed-in agents only (the console's blueprint; the agents file has no roles, and the
figures hold no caller's number or words). ``from`` and ``to`` are UTC days, both
included (the report's window is [from 00:00, to + 1 day 00:00) UTC); by default the
last 30 days. Every figure comes from ``ivr.records`` (the same queries as ``ivr
report``), read through ``ivr.records.native`` (off a gevent worker's loop); the heat
map is drawn by Graphviz from plain numbers (``ivr.flows.graph``).
"""
from __future__ import annotations

import logging
import subprocess
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, abort, render_template, request
from markupsafe import Markup

from ivr.flows import graph
from ivr.model.flow import Flow
from ivr.records import native
from ivr.records.pictures import Heat, csat_scores, daily, heat
from ivr.records.record import REASON_KINDS

from .charts import Series, bars, rates_over_days
from .console import bp
from .services import services

if TYPE_CHECKING:
    from ivr.records import Records

__all__ = ["init_app", "heat_figures", "heat_svg"]

log = logging.getLogger(__name__)
DEFAULT_DAYS = 30
MAX_DAYS = 366
REASON_WORDS = {"asked": "asked for a person", "escalated": "detector (upset or complex)",
                "retries": "retry limit", "error": "technical problem", "flow": "the flow's design"}


def init_app(app: Flask) -> None:
    """Nothing to set up: the pages are on the console's blueprint."""


def heat_figures(found: Heat, title: str = "") -> graph.HeatFigures:
    """The records' heat as the plain numbers the drawing takes."""
    return graph.HeatFigures({node: (h.entered, h.hung_up, h.no_input + h.no_match, h.visits)
                              for node, h in found.nodes.items()}, dict(found.edges), title)


def heat_svg(flow: Flow, found: Heat, title: str = "") -> str:
    """The heat map of ``flow`` as SVG markup (no XML prolog); raises ``GraphvizMissing``."""
    svg = graph.render(graph.dot(flow, heat_figures(found, title)), "svg").decode("utf-8")
    return svg[svg.index("<svg"):]


def _period() -> tuple[date, date]:
    today = services().now().astimezone(UTC).date()
    try:
        until = date.fromisoformat(request.args.get("to", "")) if request.args.get("to") else today
        since = date.fromisoformat(request.args.get("from", "")) if request.args.get("from") else \
            until - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        abort(400, "Dates are written YYYY-MM-DD, e.g. 2026-11-01.")
    if since > until:
        abort(400, "The period starts after it ends: put the earlier date in 'from'.")
    if (until - since).days >= MAX_DAYS:
        abort(400, f"A period is at most {MAX_DAYS} days; narrow it, or use 'ivr report' for longer ones.")
    return since, until


def _bounds(since: date, until: date) -> tuple[datetime, datetime]:
    return (datetime(since.year, since.month, since.day, tzinfo=UTC),
            datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(days=1))


def _records() -> Any:
    keeper = services().keeper
    if keeper is None:
        abort(503, "The call records are off on this server (see the log), so there is nothing to report.")
    return keeper.records


def _flow_choice() -> tuple[list[str], str]:
    names = sorted(services().library.flows)
    chosen = request.args.get("flow", "")
    if chosen and chosen != "*" and chosen not in names:
        abort(404, f"No flow named {chosen!r} is loaded.")
    return names, chosen or (names[0] if names else "*")


def _figures(records: Records, start: datetime, end: datetime, flow: str | None) -> tuple[
        dict[str, Any], list[dict[str, Any]], dict[int, int], Heat | None]:
    """The page's figures, read in one go: the report, the days, the scores, the heat."""
    figures = records.report(since=start, until=end, flow=flow)
    with records.engine.connect() as conn:
        return (figures, daily(conn, start, end, flow), csat_scores(conn, start, end, flow),
                heat(conn, flow, start, end) if flow else None)


def _heat_of(records: Records, flow: str, start: datetime, end: datetime) -> Heat:
    with records.engine.connect() as conn:
        return heat(conn, flow, start, end)


@bp.get("/reports")
def reports():
    names, chosen = _flow_choice()
    since, until = _period()
    start, end = _bounds(since, until)
    flow_filter = None if chosen == "*" else chosen
    figures, days, scores, found = native.run(_figures, _records(), start, end, flow_filter)
    charts = {
        "days": rates_over_days("chart-days", "Containment and abandonment", [d["day"] for d in days], [
            Series("contained", "#1a8f5a", [d["containment_rate"] for d in days]),
            Series("abandoned", "#d23c3c", [d["abandonment_rate"] for d in days])]),
        "reasons": bars("chart-reasons", "Why callers went to a person",
                        [(REASON_WORDS[k], figures["transfer_reasons"][k]) for k in REASON_KINDS], "#2f5bea"),
        "csat": bars("chart-csat", "Satisfaction scores (1 = poor, 5 = great)",
                     [(f"{score}", scores[score]) for score in range(1, 6)], "#d99a06", "callers"),
    }
    heat_map, heat_problem, hottest = None, "", []
    if flow_filter and found is not None:
        flow = services().library.flows[flow_filter]
        try:
            heat_map = Markup(heat_svg(flow, found, f"{since} to {until}"))
        except graph.GraphvizMissing as exc:
            heat_problem = str(exc)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            log.warning("reports: the heat map of %s could not be drawn: %s", flow_filter, exc)
            heat_problem = "Graphviz could not draw this flow; the table below has the same figures."
        hottest = sorted(((node, h) for node, h in found.nodes.items() if node in flow.nodes),
                         key=lambda item: (-item[1].drop_rate, -item[1].fail_rate, item[0]))
    return render_template("console/reports.html", names=names, chosen=chosen, since=since, until=until,
                           figures=figures, days=days, scores=scores, charts=charts, heat_map=heat_map,
                           heat_problem=heat_problem, hottest=hottest, found=found, reason_words=REASON_WORDS,
                           reason_kinds=REASON_KINDS)


@bp.get("/reports/heat.svg")
def heat_map_svg():
    _, chosen = _flow_choice()
    if chosen == "*":
        abort(400, "A heat map is of one flow: choose it with ?flow=NAME.")
    since, until = _period()
    start, end = _bounds(since, until)
    found = native.run(_heat_of, _records(), chosen, start, end)
    try:
        svg = heat_svg(services().library.flows[chosen], found, f"{since} to {until}")
    except graph.GraphvizMissing as exc:
        abort(503, str(exc))
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + svg, mimetype="image/svg+xml",
                    headers={"Content-Disposition": f'inline; filename="{chosen}-heat.svg"'})
