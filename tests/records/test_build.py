"""The record a call leaves, built from what the engine kept (no database here).

Calls go through the real engine over call_flows/acme-support.yaml; the clock moves 4 s
per event, so every time on the path is known exactly.
"""
from __future__ import annotations

import json
import textwrap
from datetime import timedelta

import pytest
from records_support import T0, Caller, calm_flow, demo_flow

from ivr.engine import step
from ivr.flows.loader import load_text
from ivr.model.events import CallStarted, DigitsPressed, LookupResult
from ivr.records import build_record, reason_kind
from ivr.records.database import call_row
from ivr.web.line import event_record


@pytest.fixture(scope="module")
def flow():
    return demo_flow()


def path(record):
    return [(v.node, v.entered_s, v.spent_s, v.no_input, v.no_match) for v in record.path]


def test_order_status_by_voice_is_contained_with_the_time_at_each_node(flow):
    call = Caller(flow, "CA01").start()
    call.say("where is my order")
    call.say("one two three four five six")
    call.say("that's all")
    record = call.finish()
    assert record.outcome == "contained" and record.transfer_kind is None and record.transfers == ()
    assert path(record) == [("main", 0, 4, 0, 0), ("order", 4, 4, 0, 0), ("order_lookup", 8, 0, 0, 0),
                            ("order_status", 8, 0, 0, 0), ("anything_else", 8, 4, 0, 0), ("goodbye", 12, 4, 0, 0)]
    assert record.duration_s == 16 and record.ended_at == T0 + timedelta(seconds=16)
    assert (record.flow, record.flow_version, record.language) == ("acme-support", flow.version, "en-US")
    assert record.slots_filled == ("order_id",) and record.turns == 3 and record.hold_s is None
    assert "123456" not in json.dumps(call_row(record), default=str)  # no slot values, no transcripts


def test_a_pin_is_never_in_the_record(flow):
    call = Caller(flow, "CA02").start()
    call.press("2")
    call.press("87654321")
    call.press("9999")
    call.press("2")
    record = call.finish()
    assert record.verified and record.outcome == "contained"
    assert record.slots_filled == ("account_number", "pin")
    stored = json.dumps(call_row(record), default=str)
    assert "9999" not in stored and "87654321" not in stored


def test_silence_three_times_is_escalated_by_the_detector_before_the_retry_limit(flow):
    call = Caller(flow, "CA03").start()
    for _ in range(3):
        call.silence()
    assert call.node == "front_desk"
    record = call.finish()
    assert (record.transfer_kind, record.transfer_reason) == ("escalated", "Escalation detector: no_input")
    assert path(record) == [("main", 0, 12, 3, 0), ("front_desk", 12, 4, 0, 0)]


def test_silence_past_the_retry_limit_goes_to_a_person_for_retries():
    flow = calm_flow()  # a detector that lets the retry limit speak first
    call = Caller(flow, "CA03").start()
    for _ in range(3):
        call.silence()
    assert call.node == "front_desk"
    call.agent("answered")
    record = call.finish()
    assert (record.transfer_kind, record.transfer_reason) == ("retries", "No response 3 times at 'main'")
    assert path(record) == [("main", 0, 12, 3, 0), ("front_desk", 12, 8, 0, 0)]
    assert record.outcome == "transferred" and record.answered_by == "client:alice"
    assert [(a.agent, a.status, a.rang_s) for a in record.transfers] == [("client:alice", "answered", 4)]
    assert record.hold_s == 4


def test_the_operator_key_is_asked_and_every_agent_rung_is_kept(flow):
    call = Caller(flow, "CA04").start()
    call.press("0")
    call.agent("declined")
    call.agent("no-answer")
    call.agent("answered")
    record = call.finish()
    assert (record.transfer_kind, record.transfer_reason) == ("asked", "Caller asked for a person")
    assert [(a.agent, a.status, a.started_s, a.ended_s) for a in record.transfers] == [
        ("client:alice", "declined", 4, 8), ("+15005550010", "no-answer", 8, 12), ("queue:support", "answered", 12, 16)]
    assert record.hold_s == 12 and record.answered_by == "queue:support"


def test_an_upset_caller_is_escalated_and_the_record_keeps_signals_not_words(flow):
    call = Caller(flow, "CA05").start()
    call.say("this is ridiculous, I already told you, this is useless")
    assert call.node == "front_desk"
    record = call.finish()  # the caller hangs up while alice's phone rings
    assert record.transfer_kind == "escalated"
    assert record.transfer_reason == "Escalation detector: negative_sentiment, no_match"
    assert [s for s, _ in record.signals] == ["negative_sentiment", "no_match"] and record.score >= 0.7
    assert record.outcome == "abandoned_on_hold" and record.hung_up
    assert [(a.agent, a.status, a.rang_s) for a in record.transfers] == [("client:alice", "caller_hung_up", 4)]
    assert "ridiculous" not in json.dumps(call_row(record), default=str)


def test_an_order_not_found_twice_is_the_flows_own_transfer_then_a_message(flow):
    call = Caller(flow, "CA06").start()
    call.press("1")
    call.press("111111")
    call.press("222222")
    assert call.node == "order_help"
    for status in ("no-answer", "busy", "no-answer"):
        call.agent(status)
    call.leave_message()
    record = call.finish()
    assert (record.transfer_kind, record.transfer_reason) == ("flow", "Order number not found twice")
    assert record.outcome == "voicemail" and record.answered_by is None
    assert [v.node for v in record.path][-2:] == ["order_help", "leave_message"]
    assert [a.status for a in record.transfers] == ["no-answer", "busy", "no-answer"]
    assert record.hold_s == 12  # from order_help's entry to the last agent's result


def test_a_technical_problem_is_an_error_transfer(flow):
    call = Caller(flow, "CA07").start()
    call.press("1")
    call.breaks()  # the step at the order prompt fails: the line rescues the call
    call.agent("answered")
    record = call.finish()
    assert (record.transfer_kind, record.transfer_reason) == ("error", "A technical problem in the call flow")
    assert path(record) == [("main", 0, 4, 0, 0), ("order", 4, 4, 0, 0), ("front_desk", 8, 8, 0, 0)]
    assert [(a.agent, a.status, a.rang_s) for a in record.transfers] == [("client:alice", "answered", 4)]


def test_hanging_up_in_a_menu_is_abandoned_there(flow):
    call = Caller(flow, "CA08").start()
    call.press("1")
    call.press("12")  # too short for an order number
    record = call.finish()
    assert record.outcome == "abandoned" and record.last_node == "order"
    assert path(record) == [("main", 0, 4, 0, 0), ("order", 4, 8, 0, 1)]
    assert record.no_match == 1 and record.transfer_kind is None


HTTP_FLOW = """\
flow: http-orders
numbers: ["+15005550099"]
start: order
operator: {digit: "0", phrases: [agent], to: desk}
nodes:
  order:
    collect:
      prompt: "Your order number?"
      slot: {name: order_id, kind: digits, length: 6}
      go: lookup
  lookup:
    lookup:
      http: {url: "http://orders.example.invalid/orders/{order_id}"}
      found: status
      not_found: desk
      error: desk
  status:
    say: "It is {lookup.status}."
    go: bye
  bye:
    hangup: "Goodbye."
  desk:
    transfer:
      to: ["+15005550010"]
      reason: "Order lookup sent the caller to a person"
"""


def test_a_slow_back_end_shows_as_time_at_the_lookup_node():
    flow, problems = load_text(textwrap.dedent(HTTP_FLOW), "http-orders.yaml")
    assert flow is not None, problems
    events, session = [], None
    for seconds, event in [(0, CallStarted(T0, "CA09", "+15551230000", "+15005550099")),
                           (5, DigitsPressed(T0, "123456")),
                           (7.5, LookupResult(T0, "found", {"status": "shipped"}))]:
        event = type(event)(**{**vars(event), "at": T0 + timedelta(seconds=seconds)})
        session, _ = step(flow, session, event)
        events.append(event_record(event))
    record = build_record(flow, session, events, T0 + timedelta(seconds=10))
    assert path(record) == [("order", 0, 5, 0, 0), ("lookup", 5, 2.5, 0, 0), ("status", 7.5, 0, 0, 0),
                            ("bye", 7.5, 2.5, 0, 0)]
    assert record.outcome == "contained"


@pytest.mark.parametrize("reason, kind", [
    ("", None),
    ("Caller asked for a person", "asked"),
    ("Caller chose 'closing an account', which needs a person", "asked"),
    ("Caller raised cancel, which needs a person", "escalated"),
    ("The caller seems to need a person", "escalated"),
    ("No response 3 times at 'main'", "retries"),
    ("Not understood 3 times at 'order' (six digits expected)", "retries"),
    ("back end unavailable (timeout)", "error"),
    ("A technical problem in the call flow", "error"),
    ("Order number not found twice", "flow"),
])
def test_reason_kinds(reason, kind):
    assert reason_kind(reason) == kind


def test_a_reason_made_of_the_detectors_sentences_is_escalated():
    detail = "Not understood 2 time(s) in a row at 'main'"
    assert reason_kind(f"{detail}; Sounds frustrated", [detail]) == "escalated"
