"""The rules of the way to a person: the operator escape follows the hours, retry.then is
honoured beside the detector, a value the flow asked for again is no sign of upset,
one clear message on a second failure; menus with * and #, any other key, key help in
the flow's language, spoken keys only as whole answers."""
from __future__ import annotations

from datetime import UTC, datetime

from engine_support import Phone, demo_flow, flow_from

from ivr.model.context import build_context, summary

CLOSED = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)  # a Sunday: the demo line is closed

LINE = """
flow: rules
language: en-US
hours: {timezone: America/New_York, open: {mon-fri: "08:00-20:00"}}
operator: {to: desk, after_hours: call_back}
retry: {no_input: 2, no_match: 2, then: help_desk}
escalation: {threshold: 0.7, mode: transfer, to: desk}
start: main
nodes:
  main:
    menu:
      prompt: "Press 1 for orders, star for billing, pound to hear this again."
      options:
        - {keys: "1", say: [orders], go: orders, label: orders}
        - {keys: "*", say: [billing], go: billing, label: billing}
        - {keys: "#", go: main, label: the main menu}
        - {keys: "3", go: main, label: the main menu}
        - {say: [cancel my account], go: desk, human: true, label: cancelling}
      other: wrong_key
  wrong_key:
    say: "That key does nothing here."
    go: main
  orders:
    say: "Orders."
    go: bye
  billing:
    say: "Billing."
    go: bye
  bye:
    hangup: "Goodbye."
  desk:
    transfer: {to: [client:ann], reason: "Asked for a person", fallback: call_back}
  help_desk:
    transfer: {to: [client:helper], reason: "Could not get through the menu"}
  call_back:
    callback: {prompt: "Nobody is in right now. We will call you back tomorrow morning."}
"""


def test_after_hours_the_operator_key_leads_to_the_callback_promise_and_the_help_says_so():
    call = Phone(flow_from(LINE), at=CLOSED)
    call.start()
    call.silence()
    call.silence()
    assert call.heard("press 0 to ask us to call you back") and not call.heard("speak to a person")
    call.press("0")
    assert call.node == "call_back" and call.heard("isn't available") and call.heard("call you back tomorrow")
    assert call.transferring_to is None


def test_in_hours_the_operator_key_rings_a_person():
    call = Phone(flow_from(LINE))
    call.start()
    call.press("0")
    assert call.transferring_to == "client:ann"


def test_the_demo_line_after_hours_takes_a_message_on_0():
    call = Phone(demo_flow(), at=CLOSED)
    call.start()
    call.press("0")
    assert call.recording and call.heard("isn't available") and call.heard("leave your name")


def test_failing_at_a_prompt_goes_to_retry_then():
    call = Phone(flow_from(LINE))
    call.start()
    for nonsense in ("purple elephants", "banana boat", "the weather"):
        call.say(nonsense)
        if call.transferring_to:
            break
    assert call.transferring_to == "client:helper"  # retry.then, not escalation.to


def test_signs_of_upset_go_to_escalation_to():
    call = Phone(flow_from(LINE))
    call.start()
    call.say("this is ridiculous, I already told you, this is useless")
    if not call.transferring_to:
        call.say("this is absolutely ridiculous and useless")
    assert call.transferring_to == "client:ann"
    whisper = summary(build_context(call.flow, call.session))
    assert "Seems upset." in whisper or "Seems somewhat frustrated." in whisper


def test_one_clear_message_on_the_second_failure_and_key_help_without_repeats():
    call = Phone(flow_from(LINE))
    call.start()
    call.silence()
    assert call.heard("didn't hear")
    call.silence()
    text = call.text
    assert not call.heard("didn't hear") and text.count("You can") == 1
    assert "press 1 for orders, press star for billing, press pound or 3 for the main menu" in text
    assert text.count("main menu") == 1


def test_pound_and_star_are_keys_and_any_other_key_goes_to_other():
    flow = flow_from(LINE)
    for keys, node in (("#", "main"), ("*", "bye"), ("7", "main")):
        call = Phone(flow)
        call.start()
        call.press(keys)
        assert call.node == node, (keys, call.node)
    call = Phone(flow)
    call.start()
    call.press("7")
    assert call.heard("does nothing here")


def test_a_spoken_key_counts_only_as_a_whole_answer():
    call = Phone(flow_from(LINE))
    call.start()
    call.say("one")
    assert call.heard("Orders")
    call = Phone(flow_from(LINE))
    call.start()
    call.say("I ordered one lamp and two chairs")
    assert call.listening_at == "main"


def test_a_person_only_option_needs_a_clear_match():
    call = Phone(flow_from(LINE))
    call.start()
    call.say("I don't want to cancel my account")
    assert call.transferring_to is None
    call = Phone(flow_from(LINE))
    call.start()
    call.say("cancel my account")
    assert call.transferring_to == "client:ann"


def test_key_help_in_the_flows_language():
    korean = LINE.replace("language: en-US", "language: ko-KR")
    call = Phone(flow_from(korean))
    call.start()
    call.silence()
    call.silence()
    assert "orders은 1번" in call.text and "You can" not in call.text


def test_asking_for_a_person_is_not_being_upset():
    call = Phone(flow_from(LINE))
    call.start()
    call.press("0")
    whisper = summary(build_context(call.flow, call.session))
    assert "upset" not in whisper and "frustrated" not in whisper and "asked for a person" in whisper


def test_keying_the_same_account_number_when_the_flow_asks_again_is_no_sign_of_upset():
    call = Phone(demo_flow())
    call.start()
    call.press("2")
    call.press("12345678")
    call.press("0000")  # wrong PIN: the line asks for the account number again
    assert call.listening_at == "account_retry"
    call.press("12345678")
    assert call.listening_at == "pin_again"
    assert not any("same" in r.detail for r in call.session.reasons), call.session.reasons
    assert call.session.score < 0.7
