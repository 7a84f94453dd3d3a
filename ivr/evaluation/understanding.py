"""Measure how a menu understands callers: ``ivr eval understanding CORPUS --flow FLOW``.

A corpus is a text file (or a folder of them) of labelled sentences, one a line::

    order status | my package never showed up
    none | do you sell gift cards

The label is an option's label (``label:``, else its first phrase) in the flow's menu,
or ``none`` for a sentence no option serves. Lines starting with ``#`` are notes. In a
folder, ``heldout.txt`` is reported on its own and is the set the targets are checked
on (it must never be used to tune the matcher). Every sentence goes through the same
``decide`` the menu uses on a call.

Figures: accuracy (the sentences that got their label, ``none`` included), in-scope
accuracy, and out-of-scope false accepts (of the ``none`` sentences, the share that
picked an option).
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ivr.flows.loader import load_flow
from ivr.flows.nodes.menu import Choice, MenuNode, decide
from ivr.model.flow import Flow
from ivr.model.problems import FlowError

__all__ = ["Sentence", "Scored", "Report", "load_sentences", "menu_of", "score", "format_report",
           "run_understanding_cli", "TARGETS", "HELDOUT"]

HELDOUT = "heldout.txt"
NONE = "none"
TARGETS = {"accuracy": 0.9, "false_accepts": 0.1}  # at least / at most, on the held-out set


class CorpusError(ValueError):
    """A corpus line that is not ``label | sentence``, or a label the menu does not have."""


@dataclass(frozen=True)
class Sentence:
    label: str
    text: str
    where: str  # file:line


@dataclass(frozen=True)
class Scored:
    sentence: Sentence
    chosen: str  # the option's label, or "none"
    choice: Choice

    @property
    def right(self) -> bool:
        return self.chosen == self.sentence.label


@dataclass(frozen=True)
class Report:
    name: str
    scored: tuple[Scored, ...]

    @property
    def accuracy(self) -> float:
        return _share([s.right for s in self.scored])

    @property
    def in_scope_accuracy(self) -> float:
        return _share([s.right for s in self.scored if s.sentence.label != NONE])

    @property
    def false_accepts(self) -> float:
        return _share([s.chosen != NONE for s in self.scored if s.sentence.label == NONE])

    def by_how(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.scored:
            out[s.choice.how] = out.get(s.choice.how, 0) + 1
        return out


def _share(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def load_sentences(path: Path) -> list[Sentence]:
    out: list[Sentence] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        label, sep, text = line.partition("|")
        if not sep or not label.strip() or not text.strip():
            raise CorpusError(f"{path}:{n}: expected 'label | sentence', got: {line}")
        out.append(Sentence(label.strip(), text.strip(), f"{path}:{n}"))
    return out


def menu_of(flow: Flow, node_id: str = "") -> MenuNode:
    """The menu measured: ``node_id``, else the start node, else the first menu."""
    if node_id:
        node = flow.nodes.get(node_id)
        if not isinstance(node, MenuNode):
            raise CorpusError(f"node '{node_id}' of flow '{flow.name}' is not a menu")
        return node
    start = flow.nodes.get(flow.start)
    if isinstance(start, MenuNode):
        return start
    menu = next((n for n in flow.nodes.values() if isinstance(n, MenuNode)), None)
    if menu is None:
        raise CorpusError(f"flow '{flow.name}' has no menu")
    return menu


def score(menu: MenuNode, sentences: Sequence[Sentence], name: str) -> Report:
    labels = [o.label for o in menu.options]
    for s in sentences:
        if s.label != NONE and s.label not in labels:
            raise CorpusError(f"{s.where}: '{s.label}' is not an option of menu '{menu.id}' "
                              f"(its options: {', '.join(labels)}; or none)")
    scored = []
    for s in sentences:
        choice = decide(menu, s.text)
        scored.append(Scored(s, labels[choice.index] if choice.index is not None else NONE, choice))
    return Report(name, tuple(scored))


def format_report(report: Report) -> str:
    n = len(report.scored)
    in_scope = sum(1 for s in report.scored if s.sentence.label != NONE)
    lines = [f"{report.name}: {n} sentences ({in_scope} for an option, {n - in_scope} out of scope)",
             f"  accuracy                     {report.accuracy:.3f}",
             f"  in-scope accuracy            {report.in_scope_accuracy:.3f}",
             f"  out-of-scope false accepts   {report.false_accepts:.3f}",
             "  chosen by                    " + ", ".join(f"{k} {v}" for k, v in sorted(report.by_how().items()))]
    wrong = [s for s in report.scored if not s.right]
    if wrong:
        lines.append("  wrong:")
        lines.extend(f"    {s.sentence.label!r:22} got {s.chosen!r:22} {s.sentence.text!r}  [{s.choice.how}: "
                     f"{s.choice.why}]" for s in wrong)
    return "\n".join(lines)


def run_understanding_cli(argv: list[str]) -> int:
    """``ivr eval understanding CORPUS --flow FLOW [--node MENU]``: print the report.
    Exit codes: 0 the held-out targets met, 1 one missed, 2 the corpus or flow unreadable."""
    parser = argparse.ArgumentParser(
        prog="ivr eval understanding",
        description="Measure how a menu of a flow understands labelled caller sentences "
                    "(accuracy, and false accepts of out-of-scope sentences).",
        epilog="example: ivr eval understanding tests/understanding/corpus --flow call_flows/acme-support.yaml")
    parser.add_argument("corpus", help="a corpus text file or a folder of them (heldout.txt reported apart)")
    parser.add_argument("--flow", required=True, help="the flow file whose menu is measured")
    parser.add_argument("--node", default="", help="the menu node (default: the start node)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        flow = load_flow(Path(args.flow))
    except (FlowError, OSError) as exc:
        print(f"error: cannot load the flow {args.flow}: {exc}")
        return 2
    root = Path(args.corpus)
    try:
        files = sorted(root.glob("*.txt")) if root.is_dir() else [root]
        if not files:
            raise CorpusError(f"no .txt corpus files in {root}")
        menu = menu_of(flow, args.node)
        tuned = [s for f in files if f.name != HELDOUT for s in load_sentences(f)]
        held = [s for f in files if f.name == HELDOUT for s in load_sentences(f)]
        reports = [score(menu, group, name) for name, group in (("tuning set", tuned), ("held-out set", held)) if group]
    except (CorpusError, OSError) as exc:
        print(f"error: cannot read the corpus: {exc}")
        return 2
    print(f"Menu '{menu.id}' of {args.flow} (flow '{flow.name}').\n")
    for report in reports:
        print(format_report(report) + "\n")
    judged = reports[-1]
    missed = []
    if judged.accuracy < TARGETS["accuracy"]:
        missed.append(f"accuracy {judged.accuracy:.3f} < {TARGETS['accuracy']}")
    if judged.false_accepts > TARGETS["false_accepts"]:
        missed.append(f"out-of-scope false accepts {judged.false_accepts:.3f} > {TARGETS['false_accepts']}")
    print(f"Targets on the {judged.name}: " + ("met" if not missed else "missed: " + "; ".join(missed)))
    return 1 if missed else 0
