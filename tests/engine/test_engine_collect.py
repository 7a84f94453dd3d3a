"""Collecting values: digits (keyed or said), yes/no, numbers, dates, read-back, secrets."""
from __future__ import annotations

import pytest
from engine_support import Phone, flow_from

from ivr.model.actions import Listen, Transfer

COLLECT_FLOW = """
flow: collect-test
numbers: ["+15005550006"]
operator: {digit: "0", phrases: [agent, representative, a person], to: desk}
retry: {no_input: 2, no_match: 2, then: desk}
escalation: {threshold: 0.7, weights: {no_input: 0, no_match: 0, revisit: 0, repeated_intent: 0}}
start: main
nodes:
  main:
    menu:
      prompt: "Press 1 for an order, 2 for yes or no, 3 for a number, 4 for a date, 5 for a confirmed code, 6 for a pin."
      options:
        - {keys: "1", go: order}
        - {keys: "2", go: agree}
        - {keys: "3", go: count}
        - {keys: "4", go: when}
        - {keys: "5", go: code}
        - {keys: "6", go: pin}
  order:
    collect:
      prompt: "Please say or key in your six digit order number."
      reprompt: "Your order number has six digits."
      slot: {name: order_id, kind: digits, length: 6}
      go: got_order
  got_order:
    hangup: "Order {order_id}. Goodbye."
  agree:
    collect:
      prompt: "Do you agree?"
      slot: {name: agreed, kind: yes_no}
      go: got_agree
  got_agree:
    hangup: "Agreed {agreed}. Goodbye."
  count:
    collect:
      prompt: "How many items?"
      slot: {name: items, kind: number, min: 1, max: 50}
      go: got_count
  got_count:
    hangup: "Items {items}. Goodbye."
  when:
    collect:
      prompt: "When did you order?"
      slot: {name: ordered_on, kind: date}
      go: got_when
  got_when:
    hangup: "Date {ordered_on}. Goodbye."
  code:
    collect:
      prompt: "Key in your four to six digit code."
      slot: {name: code, kind: digits, min_length: 4, max_length: 6}
      confirm: true
      go: got_code
  got_code:
    hangup: "Code {code}. Goodbye."
  pin:
    collect:
      prompt: "Key in your PIN."
      slot: {name: pin, kind: digits, length: 4, secret: true}
      confirm: true
      go: pin_desk
  pin_desk:
    transfer: {to: ["client:carol"], reason: "Check the PIN"}
  desk:
    transfer: {to: ["client:alice"], reason: "Caller asked for a person"}
"""


def at(choice: str) -> Phone:
    call = Phone(flow_from(COLLECT_FLOW))
    call.start()
    call.press(choice)
    return call


@pytest.mark.parametrize("how, value, order_id", [
    ("press", "123456", "123456"),
    ("press", "123456#", "123456"),
    ("say", "one two three four five six", "123456"),
    ("say", "1 2 3 4 5 6", "123456"),
    ("say", "it's one two three double five six", "123556"),
    ("say", "double five triple seven one", "557771"),
    ("say", "uh one two three, four five six please", "123456"),
    ("say", "oh one two three four five", "012345"),
])
def test_order_number_keyed_or_said(how, value, order_id):
    call = at("1")
    getattr(call, how)(value)
    assert call.session.slots["order_id"] == order_id
    assert call.hung_up
    assert call.heard(f"Order {order_id}")


@pytest.mark.parametrize("how, value", [("press", "12345"), ("press", "1234567"), ("say", "one two three"),
                                        ("say", "double five")])
def test_a_number_of_the_wrong_length_is_invalid_and_reprompted(how, value):
    call = at("1")
    getattr(call, how)(value)
    assert call.listening_at == "order"
    assert "order_id" not in call.session.slots
    assert call.session.turns[-1].result == "invalid"
    assert call.heard("Your order number has six digits")


def test_words_without_digits_are_a_no_match():
    call = at("1")
    call.say("I don't have it with me")
    assert call.listening_at == "order"
    assert call.session.turns[-1].result == "no_match"


def test_the_collect_listen_stops_at_the_slot_length_and_pound():
    call = at("1")
    assert isinstance(call.last, Listen)
    assert call.last.max_digits == 6 and call.last.finish_on_key == "#"


def test_collect_reprompts_escalate_to_keypad_help_then_a_person():
    call = at("1")
    call.silence()
    assert call.heard("Your order number has six digits")
    assert not call.heard("keypad")
    call.say("banana")
    assert call.heard("use your keypad to enter the 6 digits")
    call.say("banana")
    call.say("banana")
    assert call.transferring_to == "client:alice"
    assert "Not understood 3 times at 'order'" in call.last.reason


@pytest.mark.parametrize("how, value, answer", [
    ("say", "yes", "yes"), ("say", "yeah that's right", "yes"), ("say", "nope", "no"),
    ("press", "1", "yes"), ("press", "2", "no"), ("say", "no thanks", "no"),
])
def test_yes_no(how, value, answer):
    call = at("2")
    assert {"yes", "no"} <= set(call.last.phrases)
    getattr(call, how)(value)
    assert call.session.slots["agreed"] == answer


@pytest.mark.parametrize("value", ["maybe", "yes no"])
def test_neither_yes_nor_no_is_a_no_match(value):
    call = at("2")
    call.say(value)
    assert call.listening_at == "agree"
    assert call.session.turns[-1].result == "no_match"


@pytest.mark.parametrize("how, value, items", [
    ("say", "forty two", "42"), ("press", "7", "7"), ("say", "about 12 I think", "12"), ("say", "three", "3"),
])
def test_number(how, value, items):
    call = at("3")
    getattr(call, how)(value)
    assert call.session.slots["items"] == items


@pytest.mark.parametrize("value", ["sixty", "0"])
def test_a_number_out_of_range_is_invalid(value):
    call = at("3")
    call.say(value)
    assert call.listening_at == "count"
    assert call.session.turns[-1].result == "invalid"


@pytest.mark.parametrize("how, value, day", [
    ("say", "march fourteenth twenty twenty six", "2026-03-14"),
    ("say", "2026-11-02", "2026-11-02"),
    ("press", "11022026", "2026-11-02"),
    ("say", "november 2nd 2026", "2026-11-02"),
])
def test_date(how, value, day):
    call = at("4")
    getattr(call, how)(value)
    assert call.session.slots["ordered_on"] == day


def test_not_a_date_is_a_no_match():
    call = at("4")
    call.say("last week sometime")
    assert call.listening_at == "when"


def test_read_back_yes_keeps_the_value():
    call = at("5")
    call.press("98765")
    assert call.listening_at == "code"
    assert call.session.phase == "confirming"
    assert call.heard("I heard 9 8 7 6 5")
    assert "code" not in call.session.slots
    call.say("yes")
    assert call.session.slots["code"] == "98765"
    assert call.heard("Code 98765")


def test_read_back_no_asks_again_and_takes_the_new_value():
    call = at("5")
    call.say("nine eight seven six five")
    call.press("2")
    assert call.listening_at == "code"
    assert call.heard("Let's try again")
    assert call.session.phase == "listening"
    assert "code" not in call.session.slots
    call.press("1111")
    assert call.heard("I heard 1 1 1 1")
    call.press("1")
    assert call.session.slots["code"] == "1111"


def test_read_back_not_understood_asks_again_for_yes_or_no():
    call = at("5")
    call.press("98765")
    call.say("purple")
    assert call.session.phase == "confirming"
    assert call.heard("I heard 9 8 7 6 5")
    call.say("correct")
    assert call.session.slots["code"] == "98765"


@pytest.mark.parametrize("how, value", [("press", "0"), ("say", "agent")])
def test_the_operator_escape_works_during_read_back(how, value):
    call = at("5")
    call.press("98765")
    getattr(call, how)(value)
    assert call.transferring_to == "client:alice"


@pytest.mark.parametrize("how, value", [("press", "0"), ("say", "I want a representative")])
def test_the_operator_escape_works_at_a_collect(how, value):
    call = at("1")
    getattr(call, how)(value)
    assert call.transferring_to == "client:alice"


def test_a_secret_is_never_read_back_and_never_leaves_in_the_transfer():
    call = at("6")
    call.press("4321")
    assert not call.heard("4 3 2 1") and not call.heard("4321")
    assert call.heard("I heard that")
    call.press("1")
    assert call.session.slots["pin"] == "4321"  # the call needs it ...
    transfer = call.last
    assert isinstance(transfer, Transfer)
    # ... but nothing that leaves the engine carries it
    assert "4321" not in repr(transfer.context)
    assert "4321" not in transfer.summary
    assert "4321" not in repr(transfer)
    assert transfer.context["slots"]["pin"] == "••••"
    assert all(t["text"] != "4321" for t in transfer.context["turns"])
