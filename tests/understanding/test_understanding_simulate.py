"""``ivr simulate`` shows how a menu read what the caller said: the option, how it was
chosen and the score."""
from __future__ import annotations

import io
from pathlib import Path

from ivr.cli import build_parser
from ivr.simulate import main_simulate

REPO = Path(__file__).resolve().parents[2]


def simulate(lines: str) -> str:
    args = build_parser().parse_args(["simulate", "acme-support", "--flows", str(REPO / "call_flows"),
                                      "--audio", str(REPO / "audio"), "--at", "2026-11-24T15:00:00Z"])
    out = io.StringIO()
    assert main_simulate(args, out=out, err=io.StringIO(), stdin=io.StringIO(lines)) == 0
    return out.getvalue()


def test_a_described_situation_shows_the_option_how_and_score():
    out = simulate("my package never showed up\n")
    assert "[menu main: 'order status' by meaning, score 2.00: talks about delivery" in out
    assert "six digit order number" in out


def test_a_named_option_shows_the_phrase():
    out = simulate("billing\n")
    assert "[menu main: 'account balance' by phrase, score 1.00: said 'billing']" in out


def test_no_option_shows_why():
    out = simulate("do you sell gift cards\n")
    assert "[menu main: no option by none" in out
