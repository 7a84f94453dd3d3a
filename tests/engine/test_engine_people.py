"""Handing the caller to a person: targets in order, fallbacks, voicemail, the context
record, hang-ups, stray events and ``resume``."""
from __future__ import annotations

import json

import pytest
from engine_support import Phone, check_waiting, flow_from

from ivr.engine import engine
from ivr.model.actions import Hangup, Listen, Record, Speak, Transfer
from ivr.model.events import DigitsPressed, LookupResult, NoInput, RecordingDone, TransferResult

PEOPLE_FLOW = """
flow: people-test
numbers: ["+15005550006"]
operator: {digit: "0", phrases: [agent, a person], to: desk}
retry: {no_input: 2, no_match: 2, then: desk}
start: main
nodes:
  main:
    menu:
      prompt: "Press 1 for orders, 2 for the sales line, 3 for a message, 4 to hang up, 5 for your account."
      options:
        - {keys: "1", say: [order status], go: order, label: order status}
        - {keys: "2", go: sales}
        - {keys: "3", go: message}
        - {keys: "4", go: bye}
        - {keys: "5", go: account, label: account balance}
  order:
    collect:
      prompt: "Order number?"
      slot: {name: order_id, kind: digits, length: 6}
      go: main
  account:
    collect:
      prompt: "Account number?"
      slot: {name: account_number, kind: digits, length: 4}
      go: pin
  pin:
    collect:
      prompt: "PIN?"
      slot: {name: pin, kind: digits, length: 4, secret: true}
      go: main
  sales:
    transfer:
      to: ["client:sam"]
      reason: "Sales question"
      fallback: sales_closed
  sales_closed:
    hangup: "Sales is busy. Please call back. Goodbye."
  message:
    voicemail:
      prompt: "Leave your message after the tone."
      max_length: 60
      go: thanks
  thanks:
    hangup: "Thanks for your message. Goodbye."
  bye:
    hangup: "Goodbye."
  desk:
    transfer:
      to: [client:alice, "+15005550010", queue:support]
      reason: "Caller asked for a person"
      prompt: "Connecting you now."
      whisper: true
"""


@pytest.fixture
def flow():
    return flow_from(PEOPLE_FLOW)


def started(flow, caller="+15551234567") -> Phone:
    call = Phone(flow, caller=caller)
    call.start()
    return call


# --- transfer ----------------------------------------------------------------------------

def test_a_transfer_tries_each_target_in_turn(flow):
    call = started(flow)
    call.press("0")
    assert call.heard("Connecting you now")
    assert (call.last.target, call.last.attempt, call.last.attempts) == ("client:alice", 1, 3)
    assert call.session.phase == "transfer"
    call.transfer("busy")
    assert (call.last.target, call.last.attempt) == ("+15005550010", 2)
    assert call.heard("Still trying")
    call.transfer("no-answer")
    assert (call.last.target, call.last.attempt) == ("queue:support", 3)
    call.transfer("answered")
    assert call.session.outcome == "transferred"
    assert call.session.phase == "connected"
    assert [t["status"] for t in call.session.transfers] == ["busy", "no-answer", "answered"]
    assert [t["target"] for t in call.session.transfers] == ["client:alice", "+15005550010", "queue:support"]


@pytest.mark.parametrize("status", ["declined", "failed", "canceled"])
def test_a_declined_or_failed_attempt_also_moves_to_the_next_target(flow, status):
    call = started(flow)
    call.press("0")
    call.transfer(status)
    assert call.transferring_to == "+15005550010"


def test_when_every_target_fails_the_builtin_voicemail_takes_a_message(flow):
    call = started(flow)
    call.press("0")
    for _ in range(3):
        call.transfer("busy")
    assert call.heard("nobody is free")
    assert call.recording
    assert call.session.phase == "recording"
    call.record("https://example.invalid/msg.wav", 14)
    assert call.heard("Your message has been recorded")
    assert call.hung_up
    assert call.session.outcome == "voicemail"
    assert call.session.recording["url"] == "https://example.invalid/msg.wav"


def test_an_empty_recording_is_not_counted_as_a_voicemail(flow):
    call = started(flow)
    call.press("0")
    for _ in range(3):
        call.transfer("no-answer")
    call.record(url="", duration=0)
    assert call.hung_up
    assert call.heard("We didn't get a message")
    assert call.session.outcome != "voicemail"


def test_when_every_target_fails_the_fallback_node_takes_over(flow):
    call = started(flow)
    call.press("2")
    assert call.transferring_to == "client:sam"
    assert call.last.reason == "Sales question"
    call.transfer("busy")
    assert call.heard("Sales is busy")
    assert call.hung_up


def test_the_caller_hanging_up_on_hold_is_recorded(flow):
    call = started(flow)
    call.press("0")
    call.hangup()
    assert call.session.phase == "ended"
    assert call.session.outcome == "abandoned_on_hold"


def test_the_end_of_a_connected_call_ends_the_session(flow):
    call = started(flow)
    call.press("0")
    call.transfer("answered")
    call.transfer("completed")
    assert call.hung_up and call.session.phase == "ended"


# --- voicemail and hang-up -----------------------------------------------------------------

def test_voicemail_node_records_then_goes_on(flow):
    call = started(flow)
    call.press("3")
    assert call.heard("Leave your message after the tone")
    assert isinstance(call.last, Record) and call.last.max_length == 60
    call.record()
    assert call.heard("Thanks for your message")
    assert call.hung_up
    assert call.session.outcome == "voicemail"


def test_hangup_says_goodbye_then_ends_the_call_contained(flow):
    call = started(flow)
    call.press("4")
    assert [type(a) for a in call.actions] == [Speak, Hangup]
    assert call.heard("Goodbye")
    assert call.session.phase == "ended" and call.session.outcome == "contained"


def test_the_caller_hanging_up_at_a_prompt_abandons_the_call(flow):
    call = started(flow)
    call.hangup()
    assert call.actions == []
    assert call.session.phase == "ended" and call.session.outcome == "abandoned"
    call.hangup()  # Twilio's status callback after our own record of the hang-up
    assert call.session.phase == "ended"


# --- the context record ------------------------------------------------------------------

def test_the_transfer_carries_the_path_turns_and_masked_secrets(flow):
    call = started(flow, caller="+15551234567")
    call.say("order status")
    call.press("654321")
    call.press("5")
    call.press("1234")
    call.press("9876")  # the PIN
    call.say("uh I want to talk to an agent")
    transfer = call.last
    assert isinstance(transfer, Transfer)
    ctx = transfer.context
    assert ctx["caller"] == "+15551234567"
    assert ctx["path"] == ["main", "order", "main", "account", "pin", "main", "desk"]
    assert [t["kind"] for t in ctx["turns"]] == ["speech", "keys", "keys", "keys", "keys", "speech"]
    assert ctx["turns"][0]["text"] == "order status" and ctx["turns"][0]["intent"] == "order status"
    assert ctx["turns"][-1]["result"] == "operator"
    assert ctx["slots"]["order_id"] == "654321"
    assert ctx["slots"]["account_number"] == "1234"
    assert ctx["slots"]["pin"] == "••••"
    assert ctx["reason"] == "Caller asked for a person"
    assert ctx["intents"][0] == "order status"
    assert ctx["escalation"]["score"] >= 0.7
    assert any(r["signal"] == "explicit_request" for r in ctx["escalation"]["reasons"])
    json.dumps(ctx)  # the record is JSON-able as it is
    # the PIN is nowhere in what leaves the engine
    everything = json.dumps(ctx) + transfer.summary + transfer.reason
    assert "9876" not in everything
    assert transfer.summary.startswith("Caller ending in 4 5 6 7")
    assert "Wants account balance." in transfer.summary  # the latest menu choice
    assert "Caller asked for a person." in transfer.summary
    assert "upset" not in transfer.summary  # asking for a person is not being upset


def test_a_pin_typed_at_the_pin_prompt_is_masked_even_when_invalid(flow):
    call = started(flow)
    call.press("5")
    call.press("1234")
    call.press("98")  # a wrong-length PIN: invalid, still a secret
    call.press("0")
    assert "98" not in json.dumps([t for t in call.last.context["turns"] if t["node"] == "pin"])


def test_each_retry_of_a_transfer_carries_the_attempts_so_far(flow):
    call = started(flow)
    call.press("0")
    call.transfer("busy")
    assert call.last.context["transfers"] == [{"target": "client:alice", "status": "busy", "t": pytest.approx(6.0)}]


# --- stray events and resume -------------------------------------------------------------

@pytest.mark.parametrize("phase_setup, stray", [
    ("listening", TransferResult),
    ("listening", LookupResult),
    ("listening", RecordingDone),
    ("transfer", DigitsPressed),
    ("transfer", NoInput),
    ("recording", DigitsPressed),
])
def test_a_stray_event_raises_unexpected_event_naming_phase_and_event(flow, phase_setup, stray):
    call = started(flow)
    if phase_setup == "transfer":
        call.press("0")
    elif phase_setup == "recording":
        call.press("3")
    before = call.session
    args = {TransferResult: ("busy",), LookupResult: ("found",), RecordingDone: (), DigitsPressed: ("1",),
            NoInput: ()}[stray]
    with pytest.raises(engine.UnexpectedEvent) as caught:
        engine.step(flow, before, stray(call.now, *args))
    assert before.phase in str(caught.value) and stray.__name__ in str(caught.value)
    assert caught.value.phase == before.phase


def test_an_event_before_the_call_started_is_unexpected(flow):
    with pytest.raises(engine.UnexpectedEvent):
        engine.step(flow, None, NoInput(Phone(flow).now))


def test_resume_repeats_the_current_prompt_without_counting_anything(flow):
    call = started(flow)
    call.press("1")
    before = call.session
    again, actions = engine.resume(flow, before, call.now)
    check_waiting(again, actions)
    assert again == before
    assert isinstance(actions[-1], Listen) and actions[-1].node == "order"
    assert "Order number?" in [p.text for p in actions[-1].prompts]


@pytest.mark.parametrize("setup, waiting", [("0", Transfer), ("3", Record), ("4", Hangup)])
def test_resume_reissues_the_waiting_action_of_every_phase(flow, setup, waiting):
    call = started(flow)
    call.press(setup)
    again, actions = engine.resume(flow, call.session, call.now)
    check_waiting(again, actions)
    assert isinstance(actions[-1], waiting)
    if waiting is Transfer:
        assert actions[-1].target == call.last.target and actions[-1].attempt == call.last.attempt


def test_resume_during_a_second_transfer_attempt_rings_the_same_target(flow):
    call = started(flow)
    call.press("0")
    call.transfer("busy")
    _, actions = engine.resume(flow, call.session, call.now)
    assert actions[-1].target == "+15005550010"


def test_resume_at_a_read_back_repeats_the_read_back():
    flow = flow_from(PEOPLE_FLOW.replace("      slot: {name: order_id, kind: digits, length: 6}\n",
                                         "      slot: {name: order_id, kind: digits, length: 6}\n      confirm: true\n"))
    call = started(flow)
    call.press("1")
    call.press("123456")
    _, actions = engine.resume(flow, call.session, call.now)
    assert "I heard 1 2 3 4 5 6" in " ".join(p.text for p in actions[-1].prompts)
