"""The figures behind the pictures, on SQLite and PostgreSQL: the days add up to the
report, the heat of each node is the report's node figures, the ways between nodes are
the records' paths; the heat map colours the worst node hottest; the charts say their
numbers in words."""
from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from itertools import pairwise

from records_support import T0, a_day_of_calls, demo_flow

from sqlalchemy import create_engine, insert

from ivr.flows import graph
from ivr.records import open_records
from ivr.records.database import call_row, node_rows, sqlalchemy_url
from ivr.records.migrate import upgrade
from ivr.records.schema import call_nodes, calls
from ivr.records.pictures import csat_scores, daily, heat
from ivr.web.charts import Series, bars, rates_over_days


def test_the_days_add_up_to_the_report_and_the_heat_is_the_records(records):
    calls = a_day_of_calls()
    records.write_many(calls)
    figures = records.report()
    with records.engine.connect() as conn:
        days = daily(conn)
        found = heat(conn, "acme-support")
        scores = csat_scores(conn)
        first_day = daily(conn, T0, T0 + timedelta(hours=9))
    assert [d["day"] for d in days] == sorted({c.started_at.date().isoformat() for c in calls})
    for key in ("calls", "contained", "abandoned", "abandoned_on_hold", "transferred"):
        assert sum(d[key] for d in days) == figures[key], key
    assert len(first_day) == 1 and first_day[0]["calls"] == sum(c.started_at < T0 + timedelta(hours=9) for c in calls)
    assert scores == dict.fromkeys(range(1, 6), 0)

    ours = [c for c in calls if c.flow == "acme-support"]
    assert found.calls == len(ours) == len(calls)  # one flow: its heat is the whole report's nodes
    assert set(found.nodes) == set(figures["nodes"])
    for node, h in found.nodes.items():
        want = figures["nodes"][node]
        assert (h.entered, h.visits, h.no_input, h.no_match, h.hung_up) == \
            (want["entered"], want["visits"], want["no_input"], want["no_match"], want["hung_up"])
    ways: Counter[tuple[str, str]] = Counter()
    for c in ours:
        ways.update({(a.node, b.node) for a, b in pairwise(c.path) if a.node != b.node})
    assert found.edges == dict(ways)

    start, end = T0 + timedelta(minutes=15), T0 + timedelta(hours=9)  # a window: only its calls' ways
    with records.engine.connect() as conn:
        part = heat(conn, "acme-support", start, end)
    inside = [c for c in ours if start <= c.started_at < end]
    assert 0 < part.calls == len(inside) < len(ours)
    ways = Counter()
    for c in inside:
        ways.update({(a.node, b.node) for a, b in pairwise(c.path) if a.node != b.node})
    assert part.edges == dict(ways)

    forgotten = ours[0].caller  # forget and purge take a call's ways with it
    records.forget(forgotten)
    records.purge(T0 + timedelta(days=365, hours=9))
    kept = [c for c in ours if c.caller != forgotten and c.started_at >= T0 + timedelta(hours=9)]
    with records.engine.connect() as conn:
        left = heat(conn, "acme-support")
    ways = Counter()
    for c in kept:
        ways.update({(a.node, b.node) for a, b in pairwise(c.path) if a.node != b.node})
    assert left.calls == len(kept) and left.edges == dict(ways)


def test_the_heat_map_fills_the_node_callers_leave_most_in_the_hottest_colour():
    flow = demo_flow()
    figures = graph.HeatFigures({"main": (10, 1, 3, 14), "order": (6, 4, 0, 6), "goodbye": (3, 0, 0, 3)},
                                {("main", "order"): 6}, "November")
    svg = graph.render(graph.dot(flow, figures), "svg").decode()

    def fill(node: str) -> str:
        block = re.search(r'<g id="heat&#45;' + node + r'" class="node">.*?fill="([^"]+)"', svg, re.S)
        assert block, node
        return block.group(1)
    assert fill("order") == graph.HEAT_COLOURS[-1]       # 4 of 6 hung up
    assert fill("main") not in (graph.HEAT_COLOURS[-1], graph.HEAT_COLOURS[0])
    assert fill("goodbye") == graph.HEAT_COLOURS[0]       # nobody struggled
    assert fill("store_hours") == graph.HEAT_COLOURS[0]   # nobody came
    assert "where callers struggle (November)" in svg and "6 calls · 4 hung up (67%)" in svg


def test_heat_levels_rise_with_the_worse_rate():
    assert graph.heat_level(0, 0, 0, 0) == 0
    assert graph.heat_level(100, 0, 0, 100) == 0
    assert graph.heat_level(100, 3, 0, 100) == 1
    assert graph.heat_level(100, 10, 0, 100) == 2
    assert graph.heat_level(100, 0, 20, 100) == 3   # failures weigh like hang-ups
    assert graph.heat_level(100, 40, 0, 100) == 4
    assert graph.heat_level(100, 50, 0, 100) == 5
    assert graph.heat_level(1, 0, 9, 1) == 5        # more failures than visits: capped at 100%


def test_charts_say_their_numbers_in_words_and_escape_names():
    svg = str(rates_over_days("d", "Containment", ["2026-11-24", "2026-11-25"],
                              [Series("contained", "#1a8f5a", [0.5, None]), Series("<b>", "#d23c3c", [0.25, 1.0])]))
    assert '<title id="d-title">Containment</title>' in svg
    assert "contained: 2026-11-24: 50%" in svg and "&lt;b&gt;: 2026-11-24: 25%; 2026-11-25: 100%" in svg
    assert "<b>" not in svg
    assert svg.count('class="point"') == 3
    reasons = str(bars("r", "Why", [("asked", 3), ("retries", 0)]))
    assert 'data-name="asked" data-value="3"' in reasons and "asked 3 calls; retries 0 calls" in reasons


def test_calls_on_record_before_the_ways_were_kept_get_their_ways_on_upgrade(records_url):
    """Revision 0006 reads the ways of the calls already on record from their paths."""
    made = a_day_of_calls()
    engine = create_engine(sqlalchemy_url(records_url))
    try:
        upgrade(engine, "0005")
        with engine.begin() as conn:  # as the release before it wrote them: no ways
            for i, record in enumerate(made, 1):
                conn.execute(insert(calls).values({"id": i, **call_row(record)}))
                conn.execute(insert(call_nodes), node_rows(record, i))
    finally:
        engine.dispose()
    records = open_records(records_url)
    try:
        with records.engine.connect() as conn:
            found = heat(conn, "acme-support")
    finally:
        records.close()
    ways: Counter[tuple[str, str]] = Counter()
    for c in made:
        ways.update({(a.node, b.node) for a, b in pairwise(c.path) if a.node != b.node})
    assert found.calls == len(made) and found.edges == dict(ways) and ways
