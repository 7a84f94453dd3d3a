"""Report benchmark: `ivr report` over a million call records on PostgreSQL.

    .venv/bin/python bench/report.py                        # 1,000,000 records, 5 rounds
    .venv/bin/python bench/report.py --records 200000 --rounds 3 --sqlite 100000

Records are built from calls driven through the real engine over the demo line (order
status, hours, balance with a PIN, a person on 0, an upset caller, silences, hang-ups in
the menus, lookups not found, agents passing and missing), then copied (COPY) into a
schema of this run's own on PostgreSQL (``IVR_BENCH_POSTGRES_URL``, default
postgresql://postgres@127.0.0.1:5432/test), with start times spread over 365 days and
callers drawn from 50,000 numbers, written in the order the calls started (as the line
writes them, when each call ends); one call in five has a satisfaction answer. The
schema comes from the migrations (indexes included) and is vacuumed and analysed, as
autovacuum would leave it; it is dropped at the end.

Timed, in interleaved rounds: a plain ``SELECT count(*) FROM calls`` (the baseline, same
connection pool), the report over the last 30 days and the report over everything (the
three queries of ``ivr.records.report``). Printed: median seconds per report and its ratio
to the baseline. ``--sqlite N`` repeats the measurement on a SQLite file of N records.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402

from ivr.engine import rescue, step  # noqa: E402
from ivr.flows.loader import load_flow  # noqa: E402
from ivr.model.actions import Transfer  # noqa: E402
from ivr.model.events import CallEnded, CallStarted, DigitsPressed, NoInput, RecordingDone, SpeechHeard, TransferResult  # noqa: E402
from ivr.records import CallRecord, Records, build_record, open_records  # noqa: E402
from ivr.records.database import call_row, node_rows, sqlalchemy_url, transfer_rows  # noqa: E402
from ivr.records.schema import call_nodes, call_transfers, calls  # noqa: E402
from ivr.web.line import answers_secret, event_record  # noqa: E402

POSTGRES_URL = os.environ.get("IVR_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 1, tzinfo=UTC)

# What callers do, one script per kind of call; weights roughly as a support line sees them
SCRIPTS: list[tuple[int, list[tuple[str, str]]]] = [
    (20, [("say", "where is my order"), ("say", "one two three four five six"), ("say", "that's all")]),
    (12, [("press", "3"), ("press", "2")]),
    (10, [("press", "2"), ("press", "87654321"), ("press", "9999"), ("press", "2")]),
    (6, [("press", "1"), ("press", "234567"), ("press", "1"), ("press", "3"), ("press", "2")]),
    (12, [("press", "0"), ("agent", "answered")]),
    (5, [("press", "0"), ("agent", "declined"), ("agent", "no-answer"), ("agent", "answered")]),
    (4, [("say", "this is ridiculous, I already told you, this is useless")]),
    (4, [("say", "this is ridiculous, I already told you, this is useless"), ("agent", "answered")]),
    (5, [("silence", ""), ("silence", ""), ("silence", ""), ("agent", "answered")]),
    (6, []),
    (4, [("press", "1"), ("press", "12")]),
    (3, [("press", "3")]),
    (3, [("press", "1"), ("press", "111111"), ("press", "222222"), ("agent", "no-answer"), ("agent", "busy"),
         ("agent", "no-answer"), ("message", "")]),
    (2, [("press", "1"), ("breaks", ""), ("agent", "answered")]),
    (2, [("press", "2"), ("press", "12345678"), ("press", "0000"), ("press", "87654321"), ("press", "7373"),
         ("agent", "answered")]),
    (2, [("say", "blah"), ("say", "order status"), ("press", "345678"), ("say", "no thanks")]),
]


def drive(flow: Any, script: list[tuple[str, str]], sid: str) -> CallRecord:
    """One call through the engine, 4 s per event; its record."""
    now, session, actions, events = T0, None, [], []

    def send(event: Any) -> None:
        nonlocal session, actions, now
        secret = session is not None and answers_secret(flow, session)
        session, actions = step(flow, session, event)
        events.append(event_record(event, secret))
        now += timedelta(seconds=4)

    send(CallStarted(now, sid, "+15551230000", "+15005550006"))
    for what, value in script:
        if what == "press":
            send(DigitsPressed(now, value))
        elif what == "say":
            send(SpeechHeard(now, value, 0.9))
        elif what == "silence":
            send(NoInput(now))
        elif what == "agent":
            target = actions[-1].target if isinstance(actions[-1], Transfer) else ""
            send(TransferResult(now, value, target))
        elif what == "message":
            send(RecordingDone(now, "https://recordings.example.invalid/r.wav", 20.0))
        elif what == "breaks":
            session, actions = rescue(flow, session, DigitsPressed(now, "1"))
            events.append(event_record(DigitsPressed(now, "1")))
            now += timedelta(seconds=4)
    send(CallEnded(now))
    assert session is not None
    return build_record(flow, session, events, datetime.fromisoformat(events[-1]["at"]))


def templates() -> tuple[list[CallRecord], list[int]]:
    flow = load_flow(ROOT / "call_flows" / "acme-support.yaml")
    made = [drive(flow, script, f"CAtemplate{i}") for i, (_, script) in enumerate(SCRIPTS)]
    return made, [w for w, _ in SCRIPTS]


def draws(n: int, weights: list[int], seed: int = 7) -> Iterator[tuple[int, int, datetime, str, int | None]]:
    """For call i of n: (i, which template, start, caller, csat or None), the same on every pass."""
    rng = random.Random(seed)
    span = 365 * 86400
    for i in range(1, n + 1):
        which = rng.choices(range(len(weights)), weights)[0]
        # records are written as calls end, so they arrive (nearly) in the order calls started
        start = NOW - timedelta(seconds=span * (n - i) / n + rng.uniform(0, 120))
        caller = f"+1555{rng.randrange(50_000):07d}"
        csat = rng.randint(1, 5) if rng.random() < 0.2 else None
        yield i, which, start, caller, csat


def generate(n: int) -> Iterator[tuple[int, CallRecord]]:
    """``n`` records (id, record): the templates with their own sid, caller, start and csat."""
    made, weights = templates()
    for i, which, start, caller, csat in draws(n, weights):
        template = made[which]
        yield i, replace(template, call_sid=f"CA{i:032x}", caller=caller, started_at=start,
                         ended_at=start + (template.ended_at - template.started_at), csat=csat)


def copy_rows(n: int, table: str) -> Iterator[tuple[Any, ...]]:
    """The rows of one table for COPY, streamed (the same draws on every pass)."""
    made, weights = templates()
    rows = [(call_row(t), node_rows(t, 0), transfer_rows(t, 0)) for t in made]
    blobs = [tuple(json.dumps(row[k]) for k in ("signals", "path", "slots_filled")) for row, _, _ in rows]
    for i, which, start, caller, csat in draws(n, weights):
        row, nodes, transfers = rows[which]
        if table == "calls":
            signals, path, slots = blobs[which]
            ended = start + timedelta(seconds=row["duration_s"])
            yield (i, f"CA{i:032x}", row["flow"], row["flow_version"], caller, row["dialled"], start, ended,
                   row["duration_s"], row["language"], row["outcome"], row["transfer_kind"], row["transfer_reason"],
                   row["hold_s"], row["answered_by"], row["score"], signals, path, row["last_node"], row["turns"],
                   row["no_input"], row["no_match"], row["verified"], slots, csat)
        elif table == "call_nodes":
            for r in nodes:
                yield (i, r["node"], start, r["flow"], r["visits"], r["no_input"], r["no_match"], r["spent_s"],
                       r["hung_up"])
        else:
            for r in transfers:
                yield (i, r["seq"], start, r["flow"], r["agent"], r["status"], r["rang_s"])


CALL_COLUMNS = ("id, call_sid, flow, flow_version, caller, dialled, started_at, ended_at, duration_s, language, "
                "outcome, transfer_kind, transfer_reason, hold_s, answered_by, score, signals, path, last_node, "
                "turns, no_input, no_match, verified, slots_filled, csat")


COLUMNS = {
    "calls": CALL_COLUMNS,
    "call_nodes": "call_id, node, started_at, flow, visits, no_input, no_match, spent_s, hung_up",
    "call_transfers": "call_id, seq, started_at, flow, agent, status, rang_s",
}


def fill_postgres(records: Records, n: int) -> None:
    began = time.perf_counter()
    counts = {}
    raw = records.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table, columns in COLUMNS.items():
            counts[table] = 0
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in copy_rows(n, table):
                    copy.write_row(row)
                    counts[table] += 1
        cursor.execute("SELECT setval(pg_get_serial_sequence('calls', 'id'), (SELECT max(id) FROM calls))")
        raw.commit()
        copied = time.perf_counter() - began
        driver = raw.driver_connection
        driver.autocommit = True  # VACUUM runs outside a transaction
        for table in COLUMNS:
            driver.execute(f"VACUUM ANALYZE {table}")
        driver.autocommit = False
    finally:
        raw.close()
    print(f"  {counts['calls']:,} calls, {counts['call_nodes']:,} node rows, {counts['call_transfers']:,} transfer "
          f"rows copied in {copied:.1f} s; vacuumed and analysed in {time.perf_counter() - began - copied:.1f} s",
          flush=True)


def fill_sqlite(records: Records, n: int, batch: int = 5_000) -> None:
    began = time.perf_counter()
    pending: list[tuple[int, CallRecord]] = []
    with records.engine.begin() as conn:
        for item in generate(n):
            pending.append(item)
            if len(pending) == batch or item[0] == n:
                conn.execute(insert(calls), [{"id": i, **call_row(r)} for i, r in pending])
                conn.execute(insert(call_nodes), [row for i, r in pending for row in node_rows(r, i)])
                conn.execute(insert(call_transfers), [row for i, r in pending for row in transfer_rows(r, i)])
                pending.clear()
        conn.execute(text("ANALYZE"))
    print(f"  {n:,} calls inserted in {time.perf_counter() - began:.1f} s (executemany, {batch:,} per batch)", flush=True)


def timed(work: Callable[[], Any]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def measure(records: Records, rounds: int, label: str) -> None:
    def count() -> int:
        with records.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(calls)).scalar_one())

    window = NOW - timedelta(days=30)
    checks = records.report(since=window, until=NOW), records.report()
    print(f"  30 days: {checks[0]['calls']:,} calls, containment {checks[0]['containment_rate']}; "
          f"everything: {checks[1]['calls']:,} calls, containment {checks[1]['containment_rate']}, "
          f"{len(checks[1]['nodes'])} nodes, {len(checks[1]['agents'])} agents", flush=True)
    times: dict[str, list[float]] = {"count(*)": [], "report, 30 days": [], "report, everything": []}
    for _ in range(rounds):  # interleaved: each round measures all three
        times["count(*)"].append(timed(count))
        times["report, 30 days"].append(timed(lambda: records.report(since=window, until=NOW)))
        times["report, everything"].append(timed(lambda: records.report()))
    base = statistics.median(times["count(*)"])
    print(f"  {label}, median of {rounds} interleaved rounds:")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"    {name:<20} {median:8.3f} s   x{median / base:6.1f} of count(*)   "
              f"(min {min(values):.3f}, max {max(values):.3f})", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sqlite", type=int, default=0, metavar="N", help="also measure SQLite with N records")
    parser.add_argument("--keep", metavar="SCHEMA", help="keep the PostgreSQL records in this schema (and reuse "
                        "them when it exists) instead of a schema of this run's own, dropped at the end")
    args = parser.parse_args(argv)

    print(f"PostgreSQL, {args.records:,} records", flush=True)
    schema = args.keep or f"bench_report_{uuid.uuid4().hex[:10]}"
    admin = create_engine(sqlalchemy_url(POSTGRES_URL))
    with admin.begin() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}).first()
        if not exists:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        records = open_records(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}", days=3650)
        if not exists:
            fill_postgres(records, args.records)
        measure(records, args.rounds, "PostgreSQL")
        records.close()
    finally:
        if not args.keep:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    if args.sqlite:
        print(f"SQLite, {args.sqlite:,} records", flush=True)
        with tempfile.TemporaryDirectory() as folder:
            records = open_records(f"sqlite:///{folder}/records.sqlite3", days=3650)
            fill_sqlite(records, args.sqlite)
            measure(records, args.rounds, "SQLite")
            records.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
