"""A phone for the engine tests: drives ``ivr.engine.engine.step`` the way a shell does.

Tests read like calls::

    call = Phone(flow)
    call.start()
    call.press("1")
    assert call.heard("order number")

Every step is checked against the engine's promise: a live call ends the step with
exactly one waiting action. The clock is fixed (``T0``) and moves 3 s per event.
"""
from __future__ import annotations

import textwrap
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ivr.engine import engine
from ivr.flows.loader import load_text
from ivr.model.actions import WAITING_ACTIONS, DataLookup, Hangup, Listen, Record, Speak, Transfer
from ivr.model.events import (
    CallEnded,
    CallStarted,
    DigitsPressed,
    LookupResult,
    NoInput,
    RecordingDone,
    SpeechHeard,
    TransferResult,
)
from ivr.model.flow import Flow

REPO = Path(__file__).resolve().parents[2]
FLOWS_DIR = REPO / "call_flows"
DEMO_FLOW_FILE = FLOWS_DIR / "acme-support.yaml"

# Tuesday 24 November 2026, 10:00 in New York (the demo line is open).
T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def flow_from(text: str, name: str = "test-flow.yaml") -> Flow:
    """A flow from YAML text; fails the test with every problem when it does not load."""
    flow, problems = load_text(textwrap.dedent(text), name)
    assert flow is not None, "\n".join(str(p) for p in problems)
    return flow


def demo_flow() -> Flow:
    return flow_from(DEMO_FLOW_FILE.read_text(encoding="utf-8"), str(DEMO_FLOW_FILE))


def spoken(actions) -> str:
    """Everything the caller hears in ``actions`` (Speak and the prompts of a Listen)."""
    parts: list[str] = []
    for a in actions:
        if isinstance(a, Speak):
            parts.append(a.text)
        elif isinstance(a, Listen):
            parts.extend(p.text for p in a.prompts)
    return " ".join(parts)


def check_waiting(session, actions) -> None:
    """The engine's promise: a live call ends the step with exactly one waiting action."""
    waiting = [a for a in actions if isinstance(a, WAITING_ACTIONS)]
    if session.phase in ("ended", "connected"):
        assert len(waiting) <= 1, actions
        if waiting:
            assert isinstance(actions[-1], WAITING_ACTIONS) and isinstance(actions[-1], Hangup), actions
        return
    assert actions, f"no actions for a live call at {session.node}"
    assert isinstance(actions[-1], WAITING_ACTIONS), actions
    assert len(waiting) == 1, actions


class Phone:
    """One call driven straight through ``engine.step``."""

    def __init__(self, flow: Flow, at: datetime = T0, caller: str = "+15551230000", sid: str = "CAtest"):
        self.flow = flow
        self.now = at
        self.caller = caller
        self.sid = sid
        self.session = None
        self.actions: list[Any] = []

    # --- what the caller (or the shell) does ------------------------------------------
    def send(self, event) -> list[Any]:
        self.session, self.actions = engine.step(self.flow, self.session, event)
        check_waiting(self.session, self.actions)
        self.now += timedelta(seconds=3)
        return self.actions

    def start(self) -> list[Any]:
        return self.send(CallStarted(self.now, self.sid, self.caller, "+15005550006"))

    def press(self, keys: str) -> list[Any]:
        return self.send(DigitsPressed(self.now, keys))

    def say(self, text: str, confidence: float = 0.9, loudness: float | None = None) -> list[Any]:
        return self.send(SpeechHeard(self.now, text, confidence, loudness))

    def silence(self) -> list[Any]:
        return self.send(NoInput(self.now))

    def lookup(self, outcome: str, data: Mapping[str, Any] | None = None, detail: str = "") -> list[Any]:
        return self.send(LookupResult(self.now, outcome, dict(data or {}), detail))

    def transfer(self, status: str) -> list[Any]:
        target = self.last.target if isinstance(self.last, Transfer) else ""
        return self.send(TransferResult(self.now, status, target))

    def record(self, url: str = "https://example.invalid/r.wav", duration: float = 9.0) -> list[Any]:
        return self.send(RecordingDone(self.now, url, duration))

    def hangup(self) -> list[Any]:
        return self.send(CallEnded(self.now))

    # --- what the caller got ----------------------------------------------------------
    @property
    def last(self):
        return self.actions[-1] if self.actions else None

    @property
    def text(self) -> str:
        return spoken(self.actions)

    def heard(self, words: str) -> bool:
        return words.lower() in self.text.lower()

    @property
    def node(self) -> str:
        return self.session.node

    @property
    def listening_at(self) -> str | None:
        return self.last.node if isinstance(self.last, Listen) else None

    @property
    def transferring_to(self) -> str | None:
        return self.last.target if isinstance(self.last, Transfer) else None

    @property
    def recording(self) -> bool:
        return isinstance(self.last, Record)

    @property
    def hung_up(self) -> bool:
        return isinstance(self.last, Hangup)

    @property
    def looking_up(self) -> DataLookup | None:
        return self.last if isinstance(self.last, DataLookup) else None
