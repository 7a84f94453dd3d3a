"""When nobody can take the call: queue, voicemail or a callback promise, never a drop."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ivr.model.actions import Hangup, Record, Speak, Transfer
from ivr.engine.engine import step
from ivr.model.events import CallStarted, DigitsPressed, TransferResult
from ivr.flows.loader import load_text

AT = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)

FLOW = """
flow: fallbacks
operator: {to: desk}
start: main
nodes:
  main:
    menu:
      prompt: "Press 1 for billing or 2 for sales."
      options:
        - {keys: "1", go: billing}
        - {keys: "2", go: sales}
  billing:
    transfer: {to: [client:ann, "+15005550010"], reason: "Billing question", fallback: call_back}
  sales:
    transfer: {to: [client:sam], reason: "Sales question"}
  desk:
    transfer: {to: [client:ann, queue:desk], reason: "Asked for a person"}
  call_back:
    callback:
      prompt: "We will call you back at {caller} soon."
      within_minutes: 90
"""


def _call(keys: str):
    flow, problems = load_text(FLOW, "fallbacks.yaml")
    assert flow is not None, problems
    session, _ = step(flow, None, CallStarted(AT, "CAfb", "+15551234567"))
    session, actions = step(flow, session, DigitsPressed(AT, keys))
    return flow, session, actions


def test_nobody_answers_then_a_callback_is_promised_and_recorded():
    flow, session, actions = _call("1")
    assert isinstance(actions[-1], Transfer) and actions[-1].target == "client:ann"
    session, actions = step(flow, session, TransferResult(AT, "no-answer", "client:ann"))
    assert actions[-1].target == "+15005550010" and actions[-1].attempt == 2
    session, actions = step(flow, session, TransferResult(AT + timedelta(seconds=30), "busy", "+15005550010"))
    assert isinstance(actions[-1], Hangup)
    assert any(isinstance(a, Speak) and "call you back" in a.text for a in actions)
    assert session.outcome == "callback" and session.callback["number"] == "+15551234567"
    due = datetime.fromisoformat(session.callback["due_by"])
    assert due - datetime.fromisoformat(session.callback["promised_at"]) == timedelta(minutes=90)
    assert [t["status"] for t in session.transfers] == ["no-answer", "busy"]


def test_without_a_fallback_the_caller_can_leave_a_voicemail():
    flow, session, actions = _call("2")
    session, actions = step(flow, session, TransferResult(AT, "failed", "client:sam"))
    assert isinstance(actions[-1], Record)
    assert any(isinstance(a, Speak) and "nobody is free" in a.text.lower() for a in actions)


def test_the_operator_target_ends_in_a_queue():
    flow, session, actions = _call("0")
    session, actions = step(flow, session, TransferResult(AT, "declined", "client:ann"))
    assert actions[-1].target == "queue:desk"
