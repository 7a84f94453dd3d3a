"""Reports page benchmark: what the console's reports page adds to `ivr report`.

    .venv/bin/python bench/report_pictures.py                      # 200,000 records on PostgreSQL, 5 rounds
    .venv/bin/python bench/report_pictures.py --records 1000000 --sqlite 100000

The records are the ones ``bench/report.py`` makes (calls driven through the real engine
over the demo line, spread over 365 days, copied into a schema of this run's own on
PostgreSQL, ``IVR_BENCH_POSTGRES_URL``; dropped at the end). That copy fills the calls,
nodes and transfers; the ways between nodes (``call_ways``, which the line writes with
each call) are then read from the calls' paths by revision 0006's own statement.

Timed in interleaved rounds, each with wall time and this process's CPU time (the web
server's share; the database's own CPU is not in it):

* baseline: ``ivr report``'s figures for the last 30 days (``Records.report``);
* the page's extra figures for one flow over the same 30 days: containment and
  abandonment per day, satisfaction scores, and the heat (node figures, plus the ways
  between nodes read from each call's path);
* the heat over the whole year;
* drawing the heat map with Graphviz (``dot -Tsvg``), when it is installed.

Printed: median seconds and CPU seconds per operation and the ratio to the baseline.
"""
from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import report as made  # noqa: E402  (bench/report.py: the same records)
from sqlalchemy import create_engine, text  # noqa: E402

from ivr.flows import graph  # noqa: E402
from ivr.flows.loader import load_flow  # noqa: E402
from ivr.records import Records, open_records  # noqa: E402
from ivr.records.database import sqlalchemy_url  # noqa: E402
from ivr.records.pictures import csat_scores, daily, heat  # noqa: E402
from ivr.web.console_reports import heat_figures  # noqa: E402

FLOW = "acme-support"


def timed(work: Callable[[], Any]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def fill_ways(records: Records) -> None:
    """``call_ways`` from the calls' paths, as revision 0006 fills it for calls on record."""
    spec = importlib.util.spec_from_file_location(
        "ways_revision", made.ROOT / "ivr" / "records" / "migrations" / "versions" / "0006_call_ways.py")
    assert spec is not None and spec.loader is not None
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    began = time.perf_counter()
    with records.engine.begin() as conn:
        done = conn.execute(text(revision.BACKFILL[conn.dialect.name])).rowcount
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE call_ways"))
    print(f"  {done:,} ways read from the paths in {time.perf_counter() - began:.1f} s", flush=True)


def measure(records: Records, rounds: int, label: str) -> None:
    until = made.NOW
    since = until - timedelta(days=30)
    flow = load_flow(made.ROOT / "call_flows" / f"{FLOW}.yaml")

    def page_figures() -> None:
        with records.engine.connect() as conn:
            daily(conn, since, until, FLOW)
            csat_scores(conn, since, until, FLOW)
            heat(conn, FLOW, since, until)

    def year_heat() -> None:
        with records.engine.connect() as conn:
            heat(conn, FLOW, until - timedelta(days=366), until)

    with records.engine.connect() as conn:
        found = heat(conn, FLOW, since, until)
    print(f"  30 days of {FLOW}: {found.calls:,} calls, {len(found.nodes)} nodes, {len(found.edges)} ways",
          flush=True)
    work: dict[str, Callable[[], Any]] = {
        "ivr report, 30 days (baseline)": lambda: records.report(since=since, until=until),
        "page figures, 30 days": page_figures,
        "heat, 365 days": year_heat,
    }
    if shutil.which("dot"):
        dot_text = graph.dot(flow, heat_figures(found, "30 days"))
        work["heat map drawn (dot -Tsvg)"] = lambda: graph.render(dot_text, "svg")
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in work}
    for _ in range(rounds):  # interleaved: each round measures every operation once
        for name, job in work.items():
            times[name].append(timed(job))
    base = statistics.median(wall for wall, _ in times["ivr report, 30 days (baseline)"])
    print(f"  {label}, median of {rounds} interleaved rounds (wall s, this process's CPU s, ratio to the baseline):")
    for name, values in times.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        print(f"    {name:<32} {wall:7.3f} s  cpu {cpu:7.3f} s   x{wall / base:5.1f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sqlite", type=int, default=0, metavar="N", help="also measure SQLite with N records")
    args = parser.parse_args(argv)

    print(f"PostgreSQL, {args.records:,} records", flush=True)
    schema = f"bench_pictures_{uuid.uuid4().hex[:10]}"
    admin = create_engine(sqlalchemy_url(made.POSTGRES_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        records = open_records(f"{made.POSTGRES_URL}?options=-csearch_path%3D{schema}", days=3650)
        made.fill_postgres(records, args.records)
        fill_ways(records)
        measure(records, args.rounds, "PostgreSQL")
        records.close()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    if args.sqlite:
        print(f"SQLite, {args.sqlite:,} records", flush=True)
        with tempfile.TemporaryDirectory() as folder:
            records = open_records(f"sqlite:///{folder}/records.sqlite3", days=3650)
            made.fill_sqlite(records, args.sqlite)
            fill_ways(records)
            measure(records, args.rounds, "SQLite")
            records.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
