"""The labelled corpus, the demo-line driver, the metrics, and the corpus as a test."""
from pathlib import Path

import pytest

from ivr.evaluation.corpus import HELDOUT_FILE, Call, CorpusError, CorpusTurn, corpus_files, load_corpus
from ivr.evaluation.evaluate import TARGETS, evaluate, format_report, missed_targets, run_eval_cli

from transcript_line import play_transcript, transcript_driver, transcript_explainer

CORPUS = Path(__file__).parent / "corpus"
LINE = Path(__file__).parent / "line" / "corpus-line.yaml"
FILES = corpus_files(CORPUS)
TUNING = load_corpus([f for f in FILES if f.name != HELDOUT_FILE])
HELDOUT = load_corpus([f for f in FILES if f.name == HELDOUT_FILE])


def _report(evaluation):
    return format_report(evaluation, transcript_explainer())


# the corpus itself ---------------------------------------------------------------------

def test_the_corpus_is_large_and_a_fifth_is_held_out():
    total = len(TUNING) + len(HELDOUT)
    assert total >= 150
    assert len(HELDOUT) >= total / 5
    assert not {c.id for c in TUNING} & {c.id for c in HELDOUT}


@pytest.mark.parametrize("calls", [TUNING, HELDOUT], ids=["tuning", "heldout"])
def test_both_sets_hold_routine_calls_and_calls_that_need_a_person(calls):
    needing = [c for c in calls if c.needs_person]
    routine = [c for c in calls if not c.needs_person]
    assert len(needing) >= 20 and len(routine) >= 20


# the corpus as a test ------------------------------------------------------------------

def test_held_out_set_meets_the_targets():
    evaluation = evaluate(HELDOUT, transcript_driver(), "held-out set")
    assert missed_targets(evaluation.metrics) == [], _report(evaluation)


def test_tuning_set_meets_the_targets():
    evaluation = evaluate(TUNING, transcript_driver(), "tuning set")
    assert missed_targets(evaluation.metrics) == [], _report(evaluation)


def test_a_detector_that_never_escalates_misses_the_targets():
    evaluation = evaluate(HELDOUT, lambda call: None)
    missed = missed_targets(evaluation.metrics)
    assert any(line.startswith("recall") for line in missed)


def test_a_detector_that_always_escalates_misses_the_targets():
    evaluation = evaluate(HELDOUT, lambda call: 1)
    missed = " ".join(missed_targets(evaluation.metrics))
    assert "precision" in missed and "false_escalation_rate" in missed


# metrics on a known case ---------------------------------------------------------------

def _call(name, needs, by=None, turns=5):
    return Call(name, name, needs, tuple(CorpusTurn("keys", "1") for _ in range(turns)), by)


def test_metrics_count_what_happened():
    calls = [_call("a", True, 2), _call("b", True, 2), _call("c", True, 1), _call("d", False), _call("e", False)]
    sent = {"a": 2, "b": 5, "c": None, "d": 3, "e": None}
    m = evaluate(calls, lambda c: sent[c.id]).metrics
    assert (m.precision, m.recall) == (2 / 3, 2 / 3)
    assert m.false_escalation_rate == 0.5
    assert m.within_one == 1 / 3
    assert m.mean_turns == 1.5  # (0 + 3) / 2
    assert missed_targets(m) and len(missed_targets(m)) == len(TARGETS)


def test_the_report_lists_wrong_calls_with_reasons():
    call = Call("x", "says ridiculous but labelled routine", False,
                (CorpusTurn("speech", "this is ridiculous"),))
    evaluation = evaluate([call], transcript_driver())
    report = _report(evaluation)
    assert "false  x" in report and "Sounds frustrated" in report


# the demo-line model -------------------------------------------------------------------

def test_the_transcript_driver_models_the_demo_line():
    call = Call("m", "", False, (
        CorpusTurn("speech", "where is my order"), CorpusTurn("speech", "four five six"),
        CorpusTurn("speech", "four five six one two three"), CorpusTurn("speech", "yes"),
        CorpusTurn("keys", "2"), CorpusTurn("keys", "12345678"), CorpusTurn("keys", "1234"),
        CorpusTurn("speech", "no thanks")))
    steps = list(play_transcript(call))
    turns = steps[-1][1].turns
    assert [(t.node, t.result) for t in turns] == [
        ("main", "matched"), ("order", "no_match"), ("order", "matched"), ("anything_else", "matched"),
        ("main", "matched"), ("billing_account", "matched"), ("billing_pin", "matched"),
        ("anything_else", "matched")]
    assert steps[-1][1].path[-1] == "goodbye"


def test_an_unknown_order_is_asked_again():
    call = Call("nf", "", False, (CorpusTurn("keys", "1"), CorpusTurn("keys", "912345")))
    session = list(play_transcript(call))[-1][1]
    assert session.node == "order" and session.path.count("order") == 2


# loading errors --------------------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ("calls: [{id: a, description: d, needs_person: true, turns: [{keys: '1'}]}]", "by_turn"),
    ("calls: [{id: a, description: d, needs_person: false, by_turn: 1, turns: [{keys: '1'}]}]", "by_turn only"),
    ("calls: [{id: a, description: d, needs_person: maybe, turns: [{keys: '1'}]}]", "true or false"),
    ("calls: [{id: a, description: d, needs_person: false, turns: [{shout: hi}]}]", "unknown key"),
    ("calls: [{id: a, description: d, needs_person: false, turns: [{keys: '1', say: hi}]}]", "exactly one"),
    ("calls: [{id: a, descripton: d, needs_person: false, turns: [{keys: '1'}]}]", "descripton"),
    ("calls: [{id: a, needs_person: false, turns: [{keys: '1'}]}, {id: a, needs_person: false, turns: [{keys: '2'}]}]", "used twice"),
    ("calls: {a: 1}", "calls:"),
])
def test_malformed_corpus_files_are_reported(tmp_path, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(CorpusError, match=message):
        load_corpus([path])


# the command line --------------------------------------------------------------------

def test_cli_reports_both_sets_and_succeeds(capsys):
    assert run_eval_cli([str(CORPUS), "--flow", str(LINE)]) == 0
    out = capsys.readouterr().out
    assert "== tuning set" in out and "== held-out set" in out and "All targets met" in out


def test_cli_fails_when_a_target_is_missed(tmp_path, capsys):
    path = tmp_path / "one.yaml"
    path.write_text("calls: [{id: a, description: d, needs_person: true, by_turn: 1, turns: [{say: 'order status'}]}]")
    assert run_eval_cli([str(path), "--flow", str(LINE)]) == 1
    assert "TARGET MISSED" in capsys.readouterr().out


def test_cli_says_what_is_wrong_with_a_missing_corpus(tmp_path, capsys):
    assert run_eval_cli([str(tmp_path / "nope.yaml"), "--flow", str(LINE)]) == 2
    assert "no such corpus" in capsys.readouterr().out


def test_cli_needs_the_flow_to_play_the_calls_on(capsys):
    assert run_eval_cli([str(CORPUS)]) == 2
    assert "--flow" in capsys.readouterr().err


def test_cli_explains_a_transfer_with_the_score_it_was_sent_with(tmp_path, capsys):
    """A call the detector sends is explained with the reason and score at that turn,
    not with the transcript model's numbers."""
    path = tmp_path / "upset.yaml"
    path.write_text("calls: [{id: u, description: d, needs_person: false, turns: ["
                    "{say: 'this is ridiculous, useless, I already told you', loudness: -8}, "
                    "{say: 'ridiculous useless machine', loudness: -6}, {silence: true}, {silence: true}]}]")
    assert run_eval_cli([str(path), "--flow", str(LINE)]) == 1
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "sent at turn" in x)
    assert "score 0.00" not in line and "no signs of trouble" not in line, line


def test_cli_help(capsys):
    assert run_eval_cli(["--help"]) == 0
    assert "example: ivr eval escalation" in capsys.readouterr().out
