"""Playing corpus calls through the real engine, on a real flow.

``engine_driver(flow)`` is a ``Driver`` (see ``corpus.py``): it starts a call on
``flow``, turns each corpus turn into the event a shell would send (keys, speech with its
confidence and loudness, silence), and reports the first turn after which the engine
hands the caller to a person (a ``Transfer`` action, or the offer of one).
``engine_explainer(flow)`` says why, in the engine's own words: the reason the call was
handed over and the score and signals at that turn. Lookups are local tables or branches
in the flow, so no I/O happens.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from ivr.engine import step
from ivr.model.actions import Action, Transfer
from ivr.model.events import CallStarted, DigitsPressed, Event, NoInput, SpeechHeard
from ivr.model.flow import Flow
from ivr.model.session import Session

from .corpus import Call, Driver

__all__ = ["START", "engine_driver", "engine_explainer", "play"]

START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday, business hours in New York


def play(flow: Flow, call: Call) -> Iterator[tuple[int, Session, list[Action]]]:
    """``(turn number, session, actions)`` after each scripted turn, until the call ends."""
    at = START
    session, actions = step(flow, None, CallStarted(at, f"CA-corpus-{call.id}", "+15551230000"))
    for number, turn in enumerate(call.turns, 1):
        at += timedelta(seconds=turn.after)
        event: Event
        if turn.kind == "keys":
            event = DigitsPressed(at, turn.text)
        elif turn.kind == "speech":
            event = SpeechHeard(at, turn.text, turn.confidence, turn.loudness, turn.duration)
        else:
            event = NoInput(at)
        session, actions = step(flow, session, event)
        yield number, session, actions
        if session.phase == "ended":
            return


def handed_over(session: Session, actions: list[Action]) -> bool:
    return any(isinstance(a, Transfer) for a in actions) or session.phase in ("transfer", "offering")


def engine_driver(flow: Flow) -> Driver:
    def drive(call: Call) -> int | None:
        for number, session, actions in play(flow, call):
            if handed_over(session, actions):
                return number
        return None

    return drive


def engine_explainer(flow: Flow):
    """Why the engine did what it did with a call: at the transfer turn, the reason it
    gave and the score with its signals; for a call never sent, the turn where the score
    was highest."""

    def explain(call: Call, escalated_at: int | None) -> str:
        best: tuple[int, Session] | None = None
        for number, session, _ in play(flow, call):
            if escalated_at is not None and number == escalated_at:
                best = (number, session)
                break
            if escalated_at is None and (best is None or session.score > best[1].score):
                best = (number, session)
        if best is None:
            return "no turn was played"
        number, session = best
        signals = "; ".join(r.detail for r in sorted(session.reasons, key=lambda r: -r.weight)) \
            or "no signs of trouble"
        if escalated_at is not None:
            why = session.transfer_reason or ("offered a person" if session.phase == "offering" else "handed over")
            return f"sent at turn {number}: {why} (score {session.score:.2f}: {signals})"
        threshold = flow.escalation.threshold
        return f"highest at turn {number}, score {session.score:.2f} (threshold {threshold:.2f}): {signals}"

    return explain
