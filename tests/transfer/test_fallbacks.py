"""When nobody can take the call: queue, voicemail or a callback promise, never a drop."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ivr.engine.engine import step
from ivr.flows.loader import load_text
from ivr.model.actions import Hangup, Listen, Record, Speak, Transfer
from ivr.model.events import CallEnded, CallStarted, DigitsPressed, NoInput, TransferResult

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)

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
    assert isinstance(actions[-1], Listen) and "call you back" in actions[-1].prompts[0].text
    assert session.outcome == "" and not session.callback  # not promised until heard
    session, actions = step(flow, session, NoInput(AT + timedelta(seconds=35)))
    assert isinstance(actions[-1], Hangup)
    assert session.outcome == "callback" and session.callback["number"] == "+15551234567"
    due = datetime.fromisoformat(session.callback["due_by"])
    assert session.callback["promised_at"] == (AT + timedelta(seconds=35)).isoformat()
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


def test_a_caller_who_hangs_up_during_the_promise_was_promised_nothing():
    flow, session, _ = _call("1")
    session, _ = step(flow, session, TransferResult(AT, "no-answer", "client:ann"))
    session, _ = step(flow, session, TransferResult(AT, "busy", "+15005550010"))
    session, _ = step(flow, session, CallEnded(AT + timedelta(seconds=2), "completed"))
    assert session.outcome == "abandoned" and not session.callback


def test_a_transfer_without_a_whisper_answered_and_completed_is_answered():
    flow, session, actions = _call("2")
    session, actions = step(flow, session, TransferResult(AT + timedelta(minutes=5), "completed", "client:sam"))
    assert isinstance(actions[-1], Hangup) and not any(isinstance(a, Speak) for a in actions)
    assert session.outcome == "transferred" and [t["status"] for t in session.transfers] == ["answered"]
