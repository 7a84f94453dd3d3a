"""Menus: choosing by key or by voice, escalating reprompts, bounded retries, the operator."""
from __future__ import annotations

import pytest
from engine_support import Phone, flow_from

from ivr.model.actions import Listen, Transfer

# Retry-count signals are off here so the retry policy alone decides (the detector's own
# thresholds are tested with the demo flow below and in the property tests).
MENU_FLOW = """
flow: menu-test
numbers: ["+15005550006"]
operator: {digit: "0", phrases: [agent, representative, a person], to: desk}
retry: {no_input: 2, no_match: 2, then: helpdesk}
escalation: {threshold: 0.7, weights: {no_input: 0, no_match: 0, revisit: 0, repeated_intent: 0}}
start: main
nodes:
  main:
    menu:
      prompt: "Welcome to the test line. You can say order status or billing, or press a key. Press 0 for a person."
      reprompt: "Say order status or billing."
      options:
        - {keys: "1", say: [order status, track my order, where is my order], go: order_said, label: order status}
        - {keys: "2", say: [billing, my bill], go: billing_said, label: billing}
        - {keys: "42", say: [store hours], go: hours_said, label: store hours}
        - {say: [cancel my account], go: desk, human: true, label: closing an account}
  order_said:
    menu:
      prompt: "Order menu."
      operator_off: "a digit is an answer here"
      options:
        - {keys: "0", say: [zero], go: bye, label: zero}
        - {keys: "9", say: [nine], go: bye, label: nine}
  billing_said:
    hangup: "Billing. Goodbye."
  hours_said:
    hangup: "Hours. Goodbye."
  bye:
    hangup: "Goodbye."
  desk:
    transfer: {to: ["client:alice"], reason: "Caller asked for a person"}
  helpdesk:
    transfer: {to: ["client:bob"], reason: "Retries used up"}
"""


@pytest.fixture
def call() -> Phone:
    phone = Phone(flow_from(MENU_FLOW))
    phone.start()
    return phone


def test_the_call_opens_with_the_start_menu_listening_for_keys_and_its_phrases(call):
    assert call.listening_at == "main"
    assert call.heard("Welcome to the test line")
    listen = call.last
    assert listen.max_digits == 2  # the longest option key ("42")
    assert {"order status", "billing", "store hours"} <= set(listen.phrases)
    assert {"agent", "representative"} <= set(listen.phrases)  # the operator's phrases too


@pytest.mark.parametrize("how, value, lands_at", [
    ("press", "1", "order_said"),
    ("press", "2", "billing_said"),
    ("press", "42", "hours_said"),
    ("press", "2#", "billing_said"),
    ("say", "order status", "order_said"),
    ("say", "Billing.", "billing_said"),
    ("say", "uh where's my order please", "order_said"),
    ("say", "um I'd like to track my order", "order_said"),
    ("say", "order statis", "order_said"),
    ("say", "billing please", "billing_said"),
    ("say", "STORE HOURS", "hours_said"),
    ("say", "two", "billing_said"),  # a key said as a word
])
def test_menu_choice(call, how, value, lands_at):
    getattr(call, how)(value)
    assert call.node == lands_at
    assert call.session.turns[-1].result == "matched"


@pytest.mark.parametrize("how, value", [("press", "7"), ("press", "4"), ("say", "pineapple smoothie"),
                                        ("say", "order status or billing")])
def test_menu_input_that_is_no_option_is_a_no_match_with_a_reprompt(call, how, value):
    getattr(call, how)(value)
    assert call.listening_at == "main"
    assert call.session.no_match == 1
    assert call.session.turns[-1].result == "no_match"
    assert call.heard("Sorry, I didn't get that")
    assert call.heard("Say order status or billing")


def test_a_human_option_goes_to_a_person_with_its_reason(call):
    call.say("I want to cancel my account")
    assert call.transferring_to == "client:alice"
    assert "closing an account" in call.last.reason or "cancel" in call.last.reason


def test_reprompts_escalate_first_shorter_then_listing_every_key(call):
    first = call.text
    call.silence()
    retry1 = call.text
    assert call.heard("didn't hear anything")
    assert call.heard("Say order status or billing")
    assert "Welcome to the test line" not in retry1
    assert len(retry1) < len(first)
    assert "press 1" not in retry1.lower()
    call.silence()
    assert call.listening_at == "main"
    assert call.heard("press 1 for order status")
    assert call.heard("press 2 for billing")
    assert call.heard("press 42 for store hours")
    assert call.heard("press 0 to speak to a person")


def test_a_menu_without_reprompt_lists_the_keys_at_the_first_retry():
    flow = flow_from(MENU_FLOW.replace('      reprompt: "Say order status or billing."\n', ""))
    call = Phone(flow)
    call.start()
    call.say("something else entirely")
    assert call.heard("press 1 for order status")


@pytest.mark.parametrize("miss", ["silence", "nonsense"])
def test_retries_are_bounded_then_the_retry_target_takes_the_call(call, miss):
    do = call.silence if miss == "silence" else (lambda: call.say("purple elephants"))
    for n in (1, 2):
        do()
        assert call.listening_at == "main", f"retry {n} should reprompt"
    do()  # the third miss: no_input/no_match is 2, so N+1 = 3
    assert call.transferring_to == "client:bob"
    reason = call.last.reason
    assert ("No response 3 times" in reason) if miss == "silence" else ("Not understood 3 times" in reason)
    assert "'main'" in reason


def test_silence_and_misunderstanding_are_counted_separately(call):
    call.silence()
    call.say("purple elephants")
    call.silence()
    call.say("purple elephants")
    assert call.listening_at == "main"
    assert (call.session.no_input, call.session.no_match) == (2, 2)


def test_a_good_answer_resets_the_retry_counts(call):
    call.silence()
    call.silence()
    call.press("1")
    assert call.listening_at == "order_said"
    assert (call.session.no_input, call.session.no_match) == (0, 0)
    call.silence()
    call.silence()
    assert call.listening_at == "order_said"


@pytest.mark.parametrize("how, value", [("press", "0"), ("press", "0#"), ("say", "agent"),
                                        ("say", "representative please"), ("say", "can I speak to a person")])
def test_the_operator_escape_reaches_a_person_in_the_same_step(call, how, value):
    getattr(call, how)(value)
    assert isinstance(call.last, Transfer)
    assert call.last.target == "client:alice"
    assert call.last.reason == "Caller asked for a person"
    assert call.session.turns[-1].result == "operator"


def test_the_operator_escape_works_in_the_middle_of_retries(call):
    call.silence()
    call.say("purple elephants")
    call.press("0")
    assert call.transferring_to == "client:alice"


def test_operator_off_makes_the_operator_digit_an_ordinary_answer(call):
    call.press("1")
    assert call.listening_at == "order_said"
    assert "agent" not in call.last.phrases  # no operator phrases expected here
    call.press("0")
    assert call.hung_up
    assert call.session.path[-1] == "bye"


def test_operator_off_means_agent_is_not_an_escape_there(call):
    call.press("1")
    call.say("agent")
    assert call.listening_at == "order_said"
    assert call.session.turns[-1].result == "no_match"


def test_operator_off_menu_does_not_offer_the_operator_key_in_its_help(call):
    call.press("1")
    call.silence()
    call.silence()
    assert call.heard("press 9 for nine")
    assert not call.heard("to speak to a person")


def test_listen_carries_the_flow_language_and_timeout(call):
    listen = call.last
    assert isinstance(listen, Listen)
    assert listen.language == "en-US"
    assert listen.timeout == 5
    assert listen.finish_on_key == ""


@pytest.mark.parametrize("text", ["", "order status"])
def test_speech_our_recogniser_rejected_is_a_misunderstanding_never_silence(call, text):
    """Speech outside the prompt's words (rejected by the recogniser, whatever it guessed)
    is counted and answered as not understood, and no guess is acted on."""
    from ivr.model.events import SpeechHeard

    call.send(SpeechHeard(call.now, text, 0.3, -30.0, 1.2, understood=False))
    assert call.listening_at == "main"
    assert (call.session.no_match, call.session.no_input) == (1, 0)
    assert call.session.turns[-1].result == "no_match" and call.session.turns[-1].kind == "speech"
    assert call.heard("Sorry, I didn't get that")
