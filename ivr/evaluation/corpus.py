"""The labelled corpus of scripted calls, and the transcript driver that plays them.

A corpus file is YAML with a top-level ``calls:`` list (or a bare list). Each call::

    - id: u01
      description: This is ridiculous after a failed number.
      kind: sentiment          # optional: what the call is about (reported by kind)
      needs_person: true       # the label, from the caller's point of view
      by_turn: 3               # 1-based turn of the first clear sign (needs_person only)
      turns:
        - {keys: "1"}
        - {say: "where is my order", confidence: 0.92, loudness: -24.0, duration: 1.4}
        - {silence: true, after: 20}   # after: seconds since the previous turn (default 12)

A *driver* plays one call and says at which 1-based turn the call went to a person, or
None: ``Driver = Callable[[Call], int | None]``. ``ivr.evaluation.driver`` plays calls
through the real engine on a flow the evaluator is given.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["CorpusError", "CorpusTurn", "Call", "Driver", "load_corpus", "corpus_files", "HELDOUT_FILE"]

HELDOUT_FILE = "heldout.yaml"
DEFAULT_GAP = 12.0
_CALL_KEYS = {"id", "description", "needs_person", "by_turn", "turns", "kind"}
_TURN_KEYS = {"keys", "say", "silence", "confidence", "loudness", "duration", "after"}


class CorpusError(ValueError):
    """A corpus file is malformed; the message names the file, the call and the fix."""


@dataclass(frozen=True)
class CorpusTurn:
    """One scripted caller action: ``kind`` is keys, speech or silence."""

    kind: str
    text: str = ""
    confidence: float = 0.9
    loudness: float | None = None
    duration: float | None = None
    after: float = DEFAULT_GAP


@dataclass(frozen=True)
class Call:
    """One labelled call. ``by_turn`` is None for routine calls. ``kind`` says what the
    call is about (``bereavement``, ``pushback``, ...); routine calls of a kind are its
    look-alikes (a death mentioned in passing). Empty when the corpus does not say."""

    id: str
    description: str
    needs_person: bool
    turns: tuple[CorpusTurn, ...]
    by_turn: int | None = None
    source: str = ""
    kind: str = ""


Driver = Callable[[Call], "int | None"]


def corpus_files(path: str | Path) -> list[Path]:
    """The YAML files of a corpus: ``path`` itself, or every *.yaml under a directory."""
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.glob("*.yaml"))
    if path.is_file():
        return [path]
    raise CorpusError(f"{path}: no such corpus file or directory")


def load_corpus(paths: Iterable[str | Path]) -> list[Call]:
    """Load and check every call of the given files; all problems are reported at once."""
    calls: list[Call] = []
    problems: list[str] = []
    for path in paths:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(f"{path}: not valid YAML: {exc}")
            continue
        items = data.get("calls") if isinstance(data, dict) else data
        if not isinstance(items, list):
            problems.append(f"{path}: expected a top-level 'calls:' list")
            continue
        for n, item in enumerate(items, 1):
            try:
                calls.append(_call(item, str(path)))
            except CorpusError as exc:
                problems.append(f"{path}: call #{n}: {exc}")
    seen: set[str] = set()
    for call in calls:
        if call.id in seen:
            problems.append(f"{call.source}: call id '{call.id}' is used twice; ids must be unique")
        seen.add(call.id)
    if problems:
        raise CorpusError("\n".join(problems))
    return calls


def _call(item: Any, source: str) -> Call:
    if not isinstance(item, dict):
        raise CorpusError("expected a mapping with id, description, needs_person, turns")
    name = str(item.get("id", "?"))
    unknown = set(item) - _CALL_KEYS
    if unknown:
        raise CorpusError(f"'{name}': unknown key(s) {sorted(unknown)}; allowed: {sorted(_CALL_KEYS)}")
    if not isinstance(item.get("needs_person"), bool):
        raise CorpusError(f"'{name}': needs_person must be true or false")
    turns = tuple(_turn(t, name, i) for i, t in enumerate(item.get("turns") or [], 1))
    if not turns:
        raise CorpusError(f"'{name}': a call needs at least one turn")
    by_turn = item.get("by_turn")
    if item["needs_person"]:
        if not isinstance(by_turn, int) or not 1 <= by_turn <= len(turns):
            raise CorpusError(f"'{name}': needs_person calls need by_turn between 1 and {len(turns)}")
    elif by_turn is not None:
        raise CorpusError(f"'{name}': by_turn only makes sense with needs_person: true")
    kind = item.get("kind", "")
    if not isinstance(kind, str):
        raise CorpusError(f"'{name}': kind must be a word such as bereavement or pushback")
    return Call(name, str(item.get("description", "")), item["needs_person"], turns, by_turn, source, kind)


def _turn(raw: Any, call: str, n: int) -> CorpusTurn:
    where = f"'{call}' turn {n}"
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: expected {{keys: ...}}, {{say: ...}} or {{silence: true}}")
    unknown = set(raw) - _TURN_KEYS
    if unknown:
        raise CorpusError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_TURN_KEYS)}")
    kinds = [k for k in ("keys", "say", "silence") if k in raw]
    if len(kinds) != 1:
        raise CorpusError(f"{where}: give exactly one of keys, say, silence")
    after = float(raw.get("after", DEFAULT_GAP))
    if kinds[0] == "silence":
        return CorpusTurn("silence", after=after)
    if kinds[0] == "keys":
        keys = str(raw["keys"])
        if not re.fullmatch(r"[0-9*#]+", keys):
            raise CorpusError(f"{where}: keys must be digits, * or #, got {keys!r}")
        return CorpusTurn("keys", keys, 1.0, None, None, after)
    loud = raw.get("loudness")
    return CorpusTurn("speech", str(raw["say"]), float(raw.get("confidence", 0.9)),
                      None if loud is None else float(loud), raw.get("duration"), after)
