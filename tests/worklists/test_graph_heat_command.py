"""``ivr graph FLOW --heat``: the heat map of the calls on record, drawn by the real
command in a subprocess (SQLite records written from whole calls through the engine)."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from records_support import T0, Caller, demo_flow

from ivr.flows.graph import HEAT_COLOURS
from ivr.records import open_records

REPO = Path(__file__).resolve().parents[2]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")


def ivr(*args: str) -> subprocess.CompletedProcess[str]:
    script = REPO / ".venv" / "bin" / "ivr"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "ivr.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=REPO, timeout=120)


@pytest.fixture
def records_url(tmp_path):
    url = f"sqlite:///{tmp_path}/records.sqlite3"
    records = open_records(url)
    flow = demo_flow()
    calls = []
    for i in range(4):  # four callers give up at the order-number prompt
        c = Caller(flow, f"CA0{i}", at=T0, caller=f"+1555000000{i}").start()
        c.press("1")
        calls.append(c.finish())
    c = Caller(flow, "CA10", at=T0).start()  # one hears the store hours and says that's all
    c.press("3")
    c.press("2")
    calls.append(c.finish())
    records.write_many(calls)
    records.close()
    return url


@needs_dot
def test_the_heat_map_fills_where_callers_gave_up_hottest(records_url, tmp_path):
    out = tmp_path / "heat.svg"
    done = ivr("graph", "acme-support", "--heat", "--records", records_url, "--since", "2026-11-24", "--svg", str(out))
    assert done.returncode == 0, done.stderr
    assert "heat of 'acme-support': 5 calls" in done.stderr
    svg = out.read_text(encoding="utf-8")
    fill = re.search(r'<g id="heat&#45;order" class="node">.*?fill="([^"]+)"', svg, re.S)
    assert fill and fill.group(1) == HEAT_COLOURS[-1]
    assert "4 calls · 4 hung up (100%)" in svg
    assert re.search(r'<g id="heat&#45;goodbye" class="node">.*?fill="([^"]+)"', svg, re.S).group(1) == HEAT_COLOURS[0]


def test_a_window_without_calls_draws_every_node_cold_and_bad_input_is_an_error(records_url):
    done = ivr("graph", "acme-support", "--heat", "--records", records_url, "--since", "2026-12-01", "--dot")
    assert done.returncode == 0, done.stderr
    assert "0 calls" in done.stderr and 'fillcolor="#a63603"' not in done.stdout and "no calls" in done.stdout
    bad = ivr("graph", "acme-support", "--heat", "--records", records_url, "--since", "yesterday")
    assert bad.returncode == 1 and "not an ISO date" in bad.stderr
    gone = ivr("graph", "acme-support", "--heat", "--records", "mysql://nowhere/x")
    assert gone.returncode == 1 and "cannot open the call records" in gone.stderr
