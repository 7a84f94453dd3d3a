"""The labelled corpus played through the real engine on a real flow: the held-out set
must meet the targets, and an upset caller's transfer carries the reasons."""
from __future__ import annotations

from pathlib import Path

import pytest

from ivr.model.actions import Transfer
from ivr.engine.engine import step
from ivr.model.events import CallStarted, DigitsPressed, SpeechHeard
from ivr.evaluation.corpus import HELDOUT_FILE, corpus_files, load_corpus
from ivr.evaluation.driver import START, engine_driver
from ivr.evaluation.evaluate import evaluate, missed_targets, run_eval_cli
from ivr.flows.loader import load_flow

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
LINE = HERE / "line" / "corpus-line.yaml"


@pytest.fixture(scope="module")
def flow():
    return load_flow(LINE)


def test_held_out_set_meets_the_targets_through_the_engine(flow):
    held = load_corpus([f for f in corpus_files(CORPUS) if f.name == HELDOUT_FILE])
    result = evaluate(held, engine_driver(flow), "held-out set")
    assert len(held) >= 30
    assert missed_targets(result.metrics) == []


def test_tuning_set_through_the_engine_is_not_worse_than_the_targets(flow):
    tuned = load_corpus([f for f in corpus_files(CORPUS) if f.name != HELDOUT_FILE])
    result = evaluate(tuned, engine_driver(flow), "tuning set")
    assert len(tuned) >= 120
    assert missed_targets(result.metrics) == []


def test_the_corpus_line_flow_is_valid_and_the_cli_uses_the_engine(capsys):
    assert run_eval_cli([str(CORPUS), "--flow", str(LINE)]) == 0
    out = capsys.readouterr().out
    assert "through the engine" in out and "All targets met on the held-out set" in out


def test_an_upset_caller_reaches_a_person_with_the_reasons_in_the_context(flow):
    at = START
    session, _ = step(flow, None, CallStarted(at, "CAupset", "+15551239876"))
    session, _ = step(flow, session, DigitsPressed(at, "1"))
    session, actions = step(flow, session, SpeechHeard(at, "nine nine nine one one one", 0.9, -24.0))
    assert not any(isinstance(a, Transfer) for a in actions)  # not found, asked again: not yet upset
    session, actions = step(flow, session, SpeechHeard(at, "this is ridiculous, I already told you", 0.9, -14.0))
    transfer = next(a for a in actions if isinstance(a, Transfer))
    signals = {r["signal"] for r in transfer.context["escalation"]["reasons"]}
    assert "negative_sentiment" in signals
    assert transfer.context["escalation"]["score"] >= flow.escalation.threshold
    assert "upset" in transfer.summary or "frustrated" in transfer.summary
    assert transfer.reason and transfer.reason != "Caller asked for a person"
