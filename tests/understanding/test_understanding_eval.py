"""``ivr eval understanding``: the demo line's main menu on its labelled corpus, the
held-out fifth judged apart."""
from __future__ import annotations

import re
from pathlib import Path

from ivr.cli import main
from ivr.evaluation.understanding import HELDOUT, load_sentences

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "understanding" / "corpus"
FLOW = REPO / "call_flows" / "acme-support.yaml"


def test_the_corpus_is_large_enough_and_a_fifth_is_held_out():
    held = load_sentences(CORPUS / HELDOUT)
    tuning = load_sentences(CORPUS / "tuning.txt")
    assert len(held) + len(tuning) >= 150
    assert 0.18 <= len(held) / (len(held) + len(tuning)) <= 0.25
    assert {s.label for s in held} >= {"order status", "account balance", "store hours", "none"}
    assert not {s.text.lower() for s in held} & {s.text.lower() for s in tuning}


def test_the_held_out_set_meets_the_targets(capsys):
    code = main(["eval", "understanding", str(CORPUS), "--flow", str(FLOW)])
    out = capsys.readouterr().out
    held = out[out.index("held-out set"):]
    accuracy = float(re.search(r"^  accuracy\s+([\d.]+)", held, re.M)[1])
    false_accepts = float(re.search(r"out-of-scope false accepts\s+([\d.]+)", held)[1])
    assert accuracy >= 0.9 and false_accepts <= 0.1
    assert code == 0
    assert "Targets on the held-out set: met" in out


def test_a_label_the_menu_does_not_have_is_refused(tmp_path, capsys):
    corpus = tmp_path / "bad.txt"
    corpus.write_text("returns | I want to send a jacket back\n", encoding="utf-8")
    assert main(["eval", "understanding", str(corpus), "--flow", str(FLOW)]) == 2
    assert "'returns' is not an option of menu 'main'" in capsys.readouterr().out


def test_a_line_without_a_label_is_refused(tmp_path, capsys):
    corpus = tmp_path / "bad.txt"
    corpus.write_text("just a sentence\n", encoding="utf-8")
    assert main(["eval", "understanding", str(corpus), "--flow", str(FLOW)]) == 2
    assert "bad.txt:1" in capsys.readouterr().out
