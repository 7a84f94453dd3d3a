"""Playing corpus calls through the real engine, on a real flow.

``engine_driver(flow)`` is a ``Driver`` (see ``corpus.py``): it starts a call on
``flow``, turns each corpus turn into the event a shell would send (keys, speech with its
confidence and loudness, silence), and reports the first turn after which the engine
hands the caller to a person (a ``Transfer`` action, or the offer of one). Lookups are
local tables or branches in the flow, so no I/O happens.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ivr.engine.actions import Transfer
from ivr.engine.events import CallStarted, DigitsPressed, NoInput, SpeechHeard
from ivr.flows.model import Flow

from .corpus import Call, Driver

START = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)  # a Tuesday, business hours in New York


def engine_driver(flow: Flow) -> Driver:
    from ivr.engine.engine import step

    def drive(call: Call) -> int | None:
        at = START
        session, actions = step(flow, None, CallStarted(at, f"CA-corpus-{call.id}", "+15551230000"))
        for number, turn in enumerate(call.turns, 1):
            at += timedelta(seconds=turn.after)
            if turn.kind == "keys":
                event = DigitsPressed(at, turn.text)
            elif turn.kind == "speech":
                event = SpeechHeard(at, turn.text, turn.confidence, turn.loudness, turn.duration)
            else:
                event = NoInput(at)
            session, actions = step(flow, session, event)
            if any(isinstance(a, Transfer) for a in actions) or session.phase in ("transfer", "offering"):
                return number
            if session.phase == "ended":
                return None
        return None

    return drive
