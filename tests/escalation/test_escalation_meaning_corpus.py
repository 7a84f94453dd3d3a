"""The meaning corpus (tests/escalation/corpus-meaning): calls written the way callers
talk, half routine and half needing a person, each kind on both sides of the line. The
held-out fifth (heldout.yaml) was written first and never tuned on; through the real
engine it must meet the aims: precision >= 0.9, recall >= 0.9, routine escalated <= 5%."""
from __future__ import annotations

from pathlib import Path

import pytest

from ivr.evaluation.corpus import HELDOUT_FILE, Call, CorpusTurn, corpus_files, load_corpus
from ivr.evaluation.driver import engine_driver, engine_explainer
from ivr.evaluation.evaluate import evaluate, format_report, run_eval_cli
from ivr.flows.loader import load_flow

HERE = Path(__file__).parent
CORPUS = HERE / "corpus-meaning"
LINE = HERE / "line" / "corpus-line.yaml"
FILES = corpus_files(CORPUS)
TUNING = load_corpus([f for f in FILES if f.name != HELDOUT_FILE])
HELDOUT = load_corpus([f for f in FILES if f.name == HELDOUT_FILE])
NEED_KINDS = {"bereavement", "fraud", "legal", "safety", "accessibility", "hardship", "cancellation", "third_party",
              "damaged", "bulk", "several_issues", "pushback", "giving_up", "repeat_contact"}


@pytest.fixture(scope="module")
def flow():
    return load_flow(LINE)


def test_the_corpus_is_large_and_a_fifth_is_held_out():
    total = len(TUNING) + len(HELDOUT)
    assert total >= 300
    assert len(HELDOUT) >= total / 5
    assert not {c.id for c in TUNING} & {c.id for c in HELDOUT}


@pytest.mark.parametrize("calls", [TUNING, HELDOUT], ids=["tuning", "heldout"])
def test_every_kind_is_on_both_sides_of_the_line(calls):
    needing = {c.kind for c in calls if c.needs_person}
    routine = {c.kind for c in calls if not c.needs_person}
    assert NEED_KINDS <= needing
    assert NEED_KINDS - {"giving_up", "repeat_contact", "several_issues", "pushback"} <= routine
    assert all(c.kind for c in calls)
    assert abs(len([c for c in calls if c.needs_person]) - len(calls) / 2) <= len(calls) * 0.05


def test_held_out_set_meets_the_aims_through_the_engine(flow):
    result = evaluate(HELDOUT, engine_driver(flow), "held-out set")
    m = result.metrics
    report = format_report(result, engine_explainer(flow))
    assert m.precision >= 0.9, report
    assert m.recall >= 0.9, report
    assert m.false_escalation_rate <= 0.05, report
    assert m.within_one >= 0.9, report


def test_tuning_set_through_the_engine(flow):
    m = evaluate(TUNING, engine_driver(flow), "tuning set").metrics
    assert m.precision >= 0.95 and m.recall >= 0.95 and m.false_escalation_rate <= 0.05


def test_the_report_gives_the_confusion_by_kind():
    calls = [Call("a", "", True, (CorpusTurn("keys", "1"),), 1, kind="fraud"),
             Call("b", "", False, (CorpusTurn("keys", "1"),), kind="fraud"),
             Call("c", "", False, (CorpusTurn("keys", "1"),), kind="legal")]
    sent = {"a": 1, "b": 1, "c": None}
    evaluation = evaluate(calls, lambda c: sent[c.id])
    assert evaluation.by_kind["fraud"].needing_sent == 1 and evaluation.by_kind["fraud"].routine_sent == 1
    assert evaluation.by_kind["legal"].routine == 1 and evaluation.by_kind["legal"].routine_sent == 0
    assert evaluation.metrics.turns_to_escalation == 1.0
    report = format_report(evaluation)
    assert "by kind" in report and "routine escalated" in report and "turns to escalation" in report


def test_the_cli_reports_the_meaning_corpus_by_kind(capsys):
    assert run_eval_cli([str(CORPUS), "--flow", str(LINE)]) in (0, 1)
    out = capsys.readouterr().out
    assert "== held-out set: 64 calls" in out and "bereavement" in out
