"""Records written and read back, on SQLite and on PostgreSQL: the report's figures for a
known set of calls, windows and flows, purge and forget.

The calls are ``records_support.a_day_of_calls``: ten calls through the real engine over
two days. What each one did:

    CA01 +..0001 day 1  order status by voice                    contained
    CA02 +..0002        store hours by key                        contained
    CA03 +..0003        balance after account and PIN             contained
    CA04 +..0004        0: alice passes, +..0010 no answer, queue answers (asked)
    CA05 +..0005        upset: the detector hands over; hangs up on hold (escalated)
    CA06 +..0001        hangs up at the welcome                   abandoned at main
    CA07 +..0006        a short order number, hangs up            abandoned at order
    CA08 +..0007 day 2  order not found twice; nobody free; a message (flow, voicemail)
    CA09 +..0008        silent past the retry limit; alice answers (retries)
    CA10 +..0001        a technical problem at the order prompt; alice answers (error)
"""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from records_support import DAY2, T0, a_day_of_calls
from sqlalchemy import func, select, update

from ivr.records import run_forget_cli, run_purge_cli, run_report_cli
from ivr.records.schema import call_nodes, call_transfers, calls

NODES_ALL = {
    "main": (10, 10, 3, 1, 1), "order": (4, 4, 0, 1, 1), "order_lookup": (2, 2, 0, 0, 0),
    "order_status": (1, 1, 0, 0, 0), "order_retry": (1, 1, 0, 0, 0), "order_lookup_again": (1, 1, 0, 0, 0),
    "order_help": (1, 1, 0, 0, 0), "leave_message": (1, 1, 0, 0, 0), "anything_else": (3, 3, 0, 0, 0),
    "goodbye": (3, 3, 0, 0, 0), "store_hours": (1, 1, 0, 0, 0), "hours_open": (1, 1, 0, 0, 0),
    "account": (1, 1, 0, 0, 0), "account_check": (1, 1, 0, 0, 0), "pin": (1, 1, 0, 0, 0),
    "account_lookup": (1, 1, 0, 0, 0),
    "balance_check": (1, 1, 0, 0, 0), "balance_clear": (1, 1, 0, 0, 0), "front_desk": (4, 4, 0, 0, 1),
}


@pytest.fixture(scope="module")
def day():
    return a_day_of_calls()


@pytest.fixture
def filled(records, day):
    records.write_many(day)
    return records


def nodes(figures):
    return {n: (f["entered"], f["visits"], f["no_input"], f["no_match"], f["hung_up"]) for n, f in figures["nodes"].items()}


def rows(records, table):
    with records.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_the_report_over_everything(filled):
    figures = filled.report()
    assert figures["calls"] == 10
    assert (figures["contained"], figures["containment_rate"]) == (3, 0.3)
    assert (figures["transferred"], figures["transfer_rate"], figures["connected"]) == (5, 0.5, 3)
    assert figures["transfer_reasons"] == {"asked": 1, "escalated": 1, "retries": 1, "error": 1, "flow": 1}
    assert (figures["abandoned"], figures["abandoned_on_hold"]) == (2, 1)
    assert (figures["abandonment_rate"], figures["hold_abandonment_rate"]) == (0.3, 0.2)
    assert figures["outcomes"] == {"contained": 3, "transferred": 3, "voicemail": 1, "callback": 0, "abandoned": 2,
                                   "abandoned_on_hold": 1, "error": 0, "other": 0}
    assert nodes(figures) == NODES_ALL
    assert figures["nodes"]["main"]["avg_time_s"] == 4.8  # 4 s each (one event), 12 s for the silent caller
    assert figures["agents"] == {
        "client:alice": {"offered": 5, "accepted": 2, "passed": 1, "missed": 2, "avg_answer_s": 4.0},
        "+15005550010": {"offered": 2, "accepted": 0, "passed": 0, "missed": 2, "avg_answer_s": None},
        "queue:support": {"offered": 2, "accepted": 1, "passed": 0, "missed": 1, "avg_answer_s": 4.0},
    }
    assert figures["csat"] == {"responses": 0, "average": None}


def test_a_window_and_a_flow(filled):
    second = filled.report(since=DAY2)
    assert (second["calls"], second["contained"], second["transferred"]) == (3, 0, 3)
    assert second["transfer_reasons"] == {"asked": 0, "escalated": 0, "retries": 1, "error": 1, "flow": 1}
    assert nodes(second)["main"] == (3, 3, 3, 0, 0) and "goodbye" not in second["nodes"]
    assert second["agents"]["client:alice"] == {"offered": 3, "accepted": 2, "passed": 0, "missed": 1,
                                                "avg_answer_s": 4.0}
    first = filled.report(since=T0, until=DAY2)
    assert (first["calls"], first["contained"], first["abandoned"], first["abandoned_on_hold"]) == (7, 3, 2, 1)
    hour = filled.report(since=T0 + timedelta(minutes=10), until=T0 + timedelta(minutes=30))
    assert hour["calls"] == 2 and set(hour["nodes"]) >= {"store_hours", "account"}  # CA02, CA03; until is exclusive
    assert filled.report(flow="acme-support")["calls"] == 10
    none = filled.report(flow="acme-support-ko")
    assert (none["calls"], none["containment_rate"], none["nodes"], none["agents"]) == (0, None, {}, {})


def test_satisfaction_answers_are_averaged(filled):
    with filled.engine.begin() as conn:
        conn.execute(update(calls).where(calls.c.call_sid == "CA01").values(csat=5))
        conn.execute(update(calls).where(calls.c.call_sid == "CA04").values(csat=2))
    assert filled.report()["csat"] == {"responses": 2, "average": 3.5}


def test_writing_a_call_again_replaces_it(filled, day):
    filled.write(day[3])
    assert filled.count() == 10 and rows(filled, call_transfers) == 9
    assert filled.report()["agents"]["queue:support"]["offered"] == 2


def test_purge_removes_exactly_the_calls_past_the_retention_period(filled):
    # 365 days after the middle of day 1: the seven calls of day 1 go, the three of day 2 stay
    assert filled.purge(T0 + timedelta(days=365, hours=12)) == 7
    assert filled.count() == 3
    with filled.engine.connect() as conn:
        assert sorted(conn.execute(select(calls.c.call_sid)).scalars()) == ["CA08", "CA09", "CA10"]
    assert rows(filled, call_nodes) == 7 + 2 + 3  # CA08's seven nodes, CA09's two, CA10's three
    assert rows(filled, call_transfers) == 3 + 1 + 1
    assert filled.purge(T0 + timedelta(days=365, hours=12)) == 0


def test_forget_removes_every_record_of_one_caller_and_nothing_else(filled):
    assert filled.forget("+15551230001") == 3  # CA01, CA06, CA10
    with filled.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(calls).where(calls.c.caller == "+15551230001")).scalar_one() == 0
        left = conn.execute(select(calls.c.id)).scalars().all()
        assert conn.execute(select(func.count()).select_from(call_nodes)
                            .where(call_nodes.c.call_id.not_in(left))).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(call_transfers)
                            .where(call_transfers.c.call_id.not_in(left))).scalar_one() == 0
    figures = filled.report()
    assert (figures["calls"], figures["contained"], figures["abandoned"]) == (7, 2, 1)
    assert figures["transfer_reasons"]["error"] == 0 and figures["agents"]["client:alice"]["offered"] == 4
    assert filled.forget("+15551230001") == 0


def test_the_report_command_in_each_format(filled, records_url):
    out, err = io.StringIO(), io.StringIO()
    assert run_report_cli(["--url", records_url, "--format", "json"], out, err) == 0, err.getvalue()
    assert json.loads(out.getvalue()) == json.loads(json.dumps(filled.report()))

    out = io.StringIO()
    assert run_report_cli(["--url", records_url, "--format", "csv", "--since", DAY2.date().isoformat()], out) == 0
    table = list(csv.reader(io.StringIO(out.getvalue())))
    assert table[0] == ["section", "name", "figure", "value"]
    assert ["line", "", "calls", "3"] in table and ["transfer_reasons", "", "retries", "1"] in table
    assert ["nodes", "main", "no_input", "3"] in table and ["agents", "client:alice", "accepted", "2"] in table

    out = io.StringIO()
    assert run_report_cli(["--url", records_url, "--flow", "acme-support"], out) == 0
    text = out.getvalue()
    assert "contained           3  (30.0%)" in text and "abandoned           2 in the menus, 1 on hold" in text


def test_the_commands_refuse_bad_input_with_a_message(records_url):
    err = io.StringIO()
    assert run_report_cli(["--url", records_url, "--since", "last tuesday"], io.StringIO(), err) == 2
    assert "not an ISO date" in err.getvalue()
    err = io.StringIO()
    assert run_report_cli(["--url", "mysql://db/ivr"], io.StringIO(), err) == 1
    assert "postgresql://" in err.getvalue()
    assert run_purge_cli(["--url", records_url, "--days", "0"], io.StringIO(), io.StringIO()) == 2


def test_the_purge_and_forget_commands(filled, records_url):
    out = io.StringIO()
    assert run_forget_cli(["--url", records_url, "+15551230001"], out) == 0
    assert out.getvalue().strip() == "deleted 3 call record(s) of +15551230001"
    out = io.StringIO()
    later = (T0 + timedelta(days=365, hours=12)).isoformat()
    assert run_purge_cli(["--url", records_url, "--now", later], out) == 0
    assert out.getvalue().strip().splitlines() == ["deleted 5 call record(s) older than 365 days",
                                                   "deleted 0 caller profile(s) past their flow's memory retention"]
    assert filled.count() == 2
