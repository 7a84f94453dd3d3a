"""The labelled corpus of scripted calls, and the transcript driver that plays them.

A corpus file is YAML with a top-level ``calls:`` list (or a bare list). Each call::

    - id: u01
      description: This is ridiculous after a failed number.
      needs_person: true       # the label, from the caller's point of view
      by_turn: 3               # 1-based turn of the first clear sign (needs_person only)
      turns:
        - {keys: "1"}
        - {say: "where is my order", confidence: 0.92, loudness: -24.0, duration: 1.4}
        - {silence: true, after: 20}   # after: seconds since the previous turn (default 12)

A *driver* plays one call and says at which 1-based turn the call went to a person, or
None: ``Driver = Callable[[Call], int | None]``. ``transcript_driver`` plays a call
against a small model of the demo retailer line (below) without the engine: it turns
each corpus turn into a ``Turn``, decides ``matched``/``no_match``/``invalid`` by keyword
and digit checks, and calls ``assess`` after each one. An engine-driven driver can
replace it without changing the evaluator.

The demo line: ``main`` 1/"order status" -> ``order`` (6 digits; numbers starting with 9
are not found and asked again) -> ``order_status`` -> ``anything_else``; 2/"billing" ->
``billing_account`` (8 digits; starting with 9: not found) -> ``billing_pin`` (4 digits)
-> ``balance`` -> ``anything_else``; 3/"hours" -> ``hours_info`` -> ``anything_else``;
0/"agent" -> a person. At ``anything_else`` yes goes back to ``main``, no ends the call,
and a new request goes straight to its branch.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from ivr.engine.session import Session, Turn
from ivr.escalation.score import assess
from ivr.escalation.settings import EscalationSettings
from ivr.understanding.person import words

__all__ = ["CorpusError", "CorpusTurn", "Call", "Driver", "load_corpus", "corpus_files",
           "transcript_driver", "play_transcript", "HELDOUT_FILE"]

HELDOUT_FILE = "heldout.yaml"
DEFAULT_GAP = 12.0
_CALL_KEYS = {"id", "description", "needs_person", "by_turn", "turns"}
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
    """One labelled call. ``by_turn`` is None for routine calls."""

    id: str
    description: str
    needs_person: bool
    turns: tuple[CorpusTurn, ...]
    by_turn: int | None = None
    source: str = ""


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
    return Call(name, str(item.get("description", "")), item["needs_person"], turns, by_turn, source)


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


# --- the transcript driver: a model of the demo line, just enough to label turns ------

_OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    # intent: (key, words that choose it)
    "order": ("1", ("order", "orders", "package", "parcel", "delivery", "shipment", "track", "tracking")),
    "billing": ("2", ("billing", "bill", "payment", "balance")),
    "hours": ("3", ("hours", "open", "opens", "close", "closes", "closing", "opening")),
}
_BRANCH = {"order": "order", "billing": "billing_account", "hours": "hours_info"}
_YES = {"yes", "yeah", "yep", "sure", "please", "ok", "okay"}
_NO = {"no", "nope"}
_DONE = {"nothing", "bye", "goodbye", "all", "set", "done", "thanks", "thank"}
_DIGIT_WORDS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3",
                "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_SLOTS = {"order": ("order_id", 6), "billing_account": ("account", 8), "billing_pin": ("pin", 4)}


def _digits(turn: CorpusTurn) -> str:
    if turn.kind == "keys":
        return turn.text
    return "".join(_DIGIT_WORDS.get(w, w if w.isdigit() else "") for w in words(turn.text))


def _option(text: str) -> str:
    tokens = words(text)
    for i, token in enumerate(tokens):
        for intent, (_, chosen) in _OPTIONS.items():
            if token in chosen:
                return intent
    return ""


def _step(node: str, turn: CorpusTurn) -> tuple[str, str, list[str]]:
    """(result, intent, nodes entered) for one caller action at ``node``."""
    if turn.kind == "silence":
        return "silence", "", []
    if turn.kind == "keys" and turn.text == "0":
        return "operator", "operator", []
    if node in ("main", "anything_else"):
        if turn.kind == "keys":
            intent = next((i for i, (k, _) in _OPTIONS.items() if k == turn.text), "")
        else:
            intent = _option(turn.text)
        if intent:
            branch = _BRANCH[intent]
            after = ["hours_info", "anything_else"] if intent == "hours" else []
            return "matched", intent, [branch, *after]
        if node == "anything_else" and turn.kind == "speech":
            tokens = set(words(turn.text))
            if tokens & _NO:
                return "matched", "no", ["goodbye"]
            if tokens & _YES:
                return "matched", "yes", ["main"]
            if tokens & _DONE:
                return "matched", "no", ["goodbye"]
        return "no_match", "", []
    slot, length = _SLOTS[node]
    digits = _digits(turn)
    if len(digits) != length:
        return ("invalid" if turn.kind == "keys" else "no_match"), "", []
    if node == "billing_account":
        return "matched", slot, ["billing_account" if digits.startswith("9") else "billing_pin"]
    if node == "billing_pin":
        return "matched", slot, ["balance", "anything_else"]
    found = not digits.startswith("9")
    return "matched", slot, (["order_lookup", "order_status", "anything_else"] if found else ["order_lookup", "order"])


def play_transcript(call: Call, settings: EscalationSettings | None = None):
    """Yield ``(turn_number, session, assessment)`` after each turn of ``call``."""
    settings = settings or EscalationSettings()
    session = Session(call_sid=call.id, flow="demo-retailer", flow_version="corpus",
                      started_at="2026-01-01T00:00:00Z", node="main", path=("main",))
    t = 0.0
    for n, scripted in enumerate(call.turns, 1):
        t += scripted.after
        node = session.node if session.node != "goodbye" else "anything_else"
        result, intent, entered = _step(node, scripted)
        turn = Turn(t=t, node=node, kind=scripted.kind, text=scripted.text,
                    confidence=scripted.confidence, loudness_dbfs=scripted.loudness,
                    duration=scripted.duration, result=result, intent=intent)
        path = session.path + tuple(entered)
        session = session.evolve(turns=session.turns + (turn,), t=t, path=path,
                                 node=entered[-1] if entered else node)
        yield n, session, assess(settings, session)


def transcript_driver(settings: EscalationSettings | None = None) -> Driver:
    """A driver that plays calls on the demo-line model and escalates at the first turn
    where ``immediate or score >= settings.threshold``."""
    settings = settings or EscalationSettings()

    def drive(call: Call) -> int | None:
        for n, _, found in play_transcript(call, settings):
            if found.needs_person(settings.threshold):
                return n
        return None

    return drive
