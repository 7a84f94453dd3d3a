"""A small model of the demo retailer line, for judging the detector without the engine.

``transcript_driver`` plays a corpus call on this model: it turns each corpus turn into a
``Turn``, decides ``matched``/``no_match``/``invalid`` by keyword and digit checks, and
calls ``assess`` after each one. The product measures the detector through the real
engine (``ivr.evaluation.driver``); this model is kept in the tests as a second,
independent opinion on the corpus labels.

The demo line: ``main`` 1/"order status" -> ``order`` (6 digits; numbers starting with 9
are not found and asked again) -> ``order_status`` -> ``anything_else``; 2/"billing" ->
``billing_account`` (8 digits; starting with 9: not found) -> ``billing_pin`` (4 digits)
-> ``balance`` -> ``anything_else``; 3/"hours" -> ``hours_info`` -> ``anything_else``;
0/"agent" -> a person. At ``anything_else`` yes goes back to ``main``, no ends the call,
and a new request goes straight to its branch.
"""
from __future__ import annotations

from ivr.escalation.score import assess
from ivr.evaluation.corpus import Call, CorpusTurn, Driver
from ivr.evaluation.evaluate import Explainer
from ivr.model.escalation import EscalationSettings
from ivr.model.session import Session, Turn
from ivr.understanding.person import words


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


def transcript_explainer(settings: EscalationSettings | None = None) -> Explainer:
    """Explain a call with the transcript model: the reasons at the transfer turn, or,
    for a call never sent, at the turn where the score was highest."""
    settings = settings or EscalationSettings()

    def explain(call: Call, escalated_at: int | None) -> str:
        best = None
        for n, _, found in play_transcript(call, settings):
            if escalated_at is not None and n == escalated_at:
                best = (n, found)
                break
            if escalated_at is None and (best is None or found.score > best[1].score):
                best = (n, found)
        if best is None:
            return "no turn was assessed"
        n, found = best
        where = "sent at turn" if escalated_at is not None else "highest at turn"
        return f"{where} {n}, {found.summary()}"

    return explain
