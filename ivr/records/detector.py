"""The escalation detector judged by the agents: ``ivr eval escalation --from-records``.

(It lives with the call records, which it reads; ``ivr.evaluation`` measures the
detector on corpora played through the engine and never opens the records.)

After a call, the agent who took it answers "did this call need a person?" in the
console (the wrap-up, kept on the call's record with the detector's score at the end of
the call). This command reads those answers from the call records and reports:

* precision: of the answered calls the detector sent to a person (``transfer_kind`` is
  ``escalated``), the share the agent said needed one;
* recall: of the answered calls that needed a person, the share the detector sent;
* a scan of thresholds: had calls gone to a person once their score reached T, the
  precision, recall and F1 at each T; the suggested threshold is the one with the best
  F1 (the higher threshold among equals: fewer callers sent for nothing).

What it cannot see: only calls that reached an agent have an answer, so a caller the
detector should have sent but who was served by the machine (or hung up) is missing
from recall. Read the figures as "among calls that reached a person".
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

__all__ = ["Scored", "Judged", "judge", "scan", "suggest", "run_from_records_cli"]

THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 21))  # 0.05 ... 1.00
FEW = 30  # fewer answers than this: the suggestion is a hint


@dataclass(frozen=True)
class Scored:
    """One answered call: the detector's score, whether the detector sent the call to a
    person, and the agent's answer."""

    score: float
    escalated: bool
    needed_person: bool


@dataclass(frozen=True)
class Judged:
    """Precision and recall of one way of deciding (None when undefined: nothing flagged,
    or nobody needed a person)."""

    flagged: int
    right: int  # flagged and needed a person
    needed: int
    precision: float | None
    recall: float | None
    f1: float | None
    threshold: float | None = None


def _judged(flags: Sequence[bool], calls: Sequence[Scored], threshold: float | None = None) -> Judged:
    flagged = sum(flags)
    needed = sum(c.needed_person for c in calls)
    right = sum(1 for f, c in zip(flags, calls) if f and c.needed_person)
    precision = round(right / flagged, 4) if flagged else None
    recall = round(right / needed, 4) if needed else None
    f1 = round(2 * precision * recall / (precision + recall), 4) if precision and recall else (
        0.0 if precision is not None and recall is not None else None)
    return Judged(flagged, right, needed, precision, recall, f1, threshold)


def judge(calls: Sequence[Scored]) -> Judged:
    """The detector as it decided: the calls it sent to a person."""
    return _judged([c.escalated for c in calls], calls)


def scan(calls: Sequence[Scored], thresholds: Sequence[float] = THRESHOLDS) -> list[Judged]:
    """Each threshold T: the calls whose score reached T, judged."""
    return [_judged([c.score >= t for c in calls], calls, t) for t in thresholds]


def suggest(scanned: Sequence[Judged]) -> Judged | None:
    """The threshold with the best F1 (the higher one among equals); None when no
    threshold flags a call that needed a person."""
    useful = [j for j in scanned if j.f1]
    if not useful:
        return None
    return max(useful, key=lambda j: (j.f1 or 0.0, j.threshold or 0.0))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def format_report(calls: Sequence[Scored], detector: Judged, scanned: Sequence[Judged],
                  best: Judged | None, where: str) -> str:
    needed = sum(c.needed_person for c in calls)
    lines = [f"Escalation detector against the agents' answers (\"did this call need a person?\"), {where}",
             f"calls with an answer: {len(calls)} (needed a person: {needed}; did not: {len(calls) - needed})",
             f"the detector sent {detector.flagged}: precision {_pct(detector.precision)} "
             f"({detector.right} of {detector.flagged}), recall {_pct(detector.recall)} "
             f"({detector.right} of {detector.needed})", "",
             "threshold scan (a call goes to a person once its score reaches the threshold):",
             f"{'threshold':>9}  {'flagged':>7}  {'precision':>9}  {'recall':>6}  {'F1':>5}"]
    for j in scanned:
        lines.append(f"{j.threshold:>9.2f}  {j.flagged:>7}  {_pct(j.precision):>9}  {_pct(j.recall):>6}  {_pct(j.f1):>5}")
    lines.append("")
    if best is None:
        lines.append("no threshold sends a call that needed a person: no suggestion")
    else:
        lines.append(f"suggested threshold: {best.threshold:.2f} (F1 {_pct(best.f1)}, precision {_pct(best.precision)}, "
                     f"recall {_pct(best.recall)}); set it as escalation.threshold in the flow")
    if len(calls) < FEW:
        lines.append(f"note: only {len(calls)} answers; with fewer than {FEW} the suggestion is a hint, not a finding")
    lines.append("note: only calls that reached an agent have an answer; callers the machine kept are not counted")
    return "\n".join(lines)


def run_from_records_cli(argv: list[str]) -> int:
    """``ivr eval escalation --from-records [--records URL] [--since ISO] [--until ISO]
    [--flow NAME] [--format table|json]``. Exit codes: 0 a report, 1 no answered calls, 2
    bad input or unreadable records."""
    parser = argparse.ArgumentParser(
        prog="ivr eval escalation --from-records",
        description="Measure the escalation detector against the agents' wrap-up answers kept in the call "
                    "records, and suggest a threshold.",
        epilog="example: ivr eval escalation --from-records --since 2026-11-01 --flow acme-support")
    parser.add_argument("--records", "--url", dest="records", metavar="URL", default=None,
                        help="the records database (default: IVR_RECORDS_URL, else var/records.sqlite3)")
    parser.add_argument("--since", metavar="ISO", default=None, help="calls that started at or after this moment")
    parser.add_argument("--until", metavar="ISO", default=None, help="calls that started before this moment")
    parser.add_argument("--flow", default=None, help="one flow's calls only")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        since = _moment(args.since, "--since")
        until = _moment(args.until, "--until")
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    from .database import open_records

    try:
        records = open_records(args.records)
    except Exception as exc:  # a bad URL, a missing driver, an unreachable server
        print(f"error: cannot open the call records: {exc}")
        return 2
    try:
        calls = [Scored(c.score, c.escalated, c.needed_person) for c in records.labelled(since, until, args.flow)]
    finally:
        records.close()
    where = ", ".join(p for p in (f"flow {args.flow}" if args.flow else "every flow",
                                  f"since {args.since}" if args.since else "", f"until {args.until}" if args.until
                                  else "") if p)
    if not calls:
        print(f"No call in the records has an agent's answer to \"did this call need a person?\" ({where}). "
              "Agents answer it on the call's page in the console after the call.")
        return 1
    detector, scanned = judge(calls), scan(calls)
    best = suggest(scanned)
    if args.format == "json":
        print(json.dumps({"calls": len(calls), "needed_person": sum(c.needed_person for c in calls),
                          "detector": asdict(detector), "scan": [asdict(j) for j in scanned],
                          "suggested_threshold": best.threshold if best else None}, indent=2))
    else:
        print(format_report(calls, detector, scanned, best, where))
    return 0


def _moment(text: str | None, option: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option} {text!r} is not a date or time; write it like 2026-11-01 or "
                         "2026-11-01T08:00:00+00:00") from None
    from datetime import UTC

    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
