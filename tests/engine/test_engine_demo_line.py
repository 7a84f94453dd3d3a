"""The demo line (call_flows/acme-support.yaml) driven straight through the engine."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from engine_support import Phone, demo_flow

from ivr.model.actions import Listen, Transfer

NY = ZoneInfo("America/New_York")
OPEN = datetime(2026, 11, 24, 10, 0, tzinfo=NY)  # Tuesday morning
CLOSED_EVENING = datetime(2026, 11, 24, 22, 0, tzinfo=NY)


@pytest.fixture(scope="module")
def flow():
    return demo_flow()


def dial(flow, at=OPEN) -> Phone:
    call = Phone(flow, at=at)
    call.start()
    return call


def test_order_status_found_by_voice(flow):
    call = dial(flow)
    call.say("uh where's my order please")
    assert call.listening_at == "order"
    call.say("one two three four five six")
    assert call.heard("Your order 123456 has shipped. It should arrive on Friday.")
    assert call.listening_at == "anything_else"
    call.say("that's all")
    assert call.heard("please rate this call") and not call.hung_up  # served: the survey
    call.say("five")
    call.record()
    assert call.heard("Thank you for your feedback") and call.heard("Goodbye") and call.hung_up
    assert call.session.outcome == "contained" and call.session.survey["csat"] == 5


def test_a_wrong_order_number_twice_goes_to_a_person_with_the_reason(flow):
    call = dial(flow)
    call.press("1")
    call.press("111111")
    assert call.heard("I couldn't find order 111111")
    call.press("222222")
    assert isinstance(call.last, Transfer)
    assert call.last.target == "client:alice"
    assert call.last.reason == "Order number not found twice"
    assert call.last.context["slots"]["order_id"] == "222222"


@pytest.mark.parametrize("account, pin, says", [
    ("12345678", "1234", "Your balance is 42.50 dollars, due on December 15."),
    ("87654321", "9999", "Your account is all paid up."),
])
def test_balance_after_account_and_pin(flow, account, pin, says):
    call = dial(flow)
    call.say("account balance")
    call.press(account)
    assert call.heard("four digit PIN")
    call.press(pin)
    assert call.heard(says)
    assert call.session.verified


def test_a_bad_pin_twice_goes_to_billing_help_without_the_pin(flow):
    call = dial(flow)
    call.press("2")
    call.press("12345678")
    call.press("0000")  # a PIN of zeros is a PIN, not the operator key
    assert call.listening_at == "account_retry"
    # (the same account number again would count as a repeated answer for the detector)
    call.press("87654321")
    call.press("7373")
    assert call.transferring_to == "client:alice"
    assert call.last.reason == "Account number and PIN did not match twice"
    assert "7373" not in repr(call.last)
    assert not [t for t in call.last.context["turns"] if t["text"] in ("0000", "7373")]
    assert call.last.context["slots"]["pin"] == "••••"
    assert not call.session.verified


def test_store_hours_while_open(flow):
    call = dial(flow)
    call.say("when are you open")
    assert call.heard("Our stores are open now")
    assert call.listening_at == "anything_else"


def test_store_hours_closed_in_the_evening_node_only(flow):
    """The hours node reads the moment of the event, not of the call's start."""
    call = Phone(flow, at=datetime(2026, 11, 24, 19, 59, 50, tzinfo=NY))
    call.start()  # 19:59:50: open, the call starts at the main menu
    assert call.listening_at == "main"
    call.now = datetime(2026, 11, 24, 20, 0, 30, tzinfo=NY)
    call.press("3")
    assert call.heard("Our stores are closed right now")


def test_store_hours_on_a_holiday(flow):
    """2027-01-01 is a Friday and a holiday; the flow-level hours send the call to after_hours,
    whose message says so; the store-hours node itself answers the holiday message."""
    call = Phone(flow, at=datetime(2027, 1, 1, 10, 0, tzinfo=NY))
    call.start()
    assert call.listening_at == "after_hours"
    assert call.heard("We're closed right now")


def test_after_hours_start_offers_order_status_and_a_message(flow):
    call = dial(flow, at=CLOSED_EVENING)
    assert call.listening_at == "after_hours"
    call.say("leave a message")
    assert call.recording
    call.record()
    assert call.hung_up and call.session.outcome == "voicemail"


def test_after_hours_order_status_still_works(flow):
    call = dial(flow, at=CLOSED_EVENING)
    call.press("1")
    call.press("345678")
    assert call.heard("has been delivered")


@pytest.mark.parametrize("how, value", [("press", "0"), ("say", "agent"), ("say", "customer service"),
                                        ("say", "can I talk to someone")])
def test_zero_or_agent_from_the_main_menu(flow, how, value):
    call = dial(flow)
    getattr(call, how)(value)
    assert call.transferring_to == "client:alice"
    assert call.last.reason == "Caller asked for a person"


def test_cancelling_an_account_always_goes_to_a_person(flow):
    call = dial(flow)
    call.say("I'd like to close my account")
    assert isinstance(call.last, Transfer)


def test_silence_at_the_main_menu_reaches_a_person_after_the_retries(flow):
    call = dial(flow)
    call.silence()
    call.silence()
    assert isinstance(call.last, Listen)
    call.silence()
    assert call.transferring_to == "client:alice"


def test_nobody_free_leaves_a_message(flow):
    call = dial(flow)
    call.press("0")
    call.transfer("busy")
    call.transfer("no-answer")
    call.transfer("failed")
    assert call.recording and call.node == "leave_message"
    call.record()
    assert call.hung_up


@pytest.mark.parametrize("said", ["상담원", "상담원.", "상담원 연결해 주세요"])
def test_the_korean_line_reaches_a_person_on_its_own_operator_word(said):
    from engine_support import FLOWS_DIR, flow_from

    korean = flow_from((FLOWS_DIR / "acme-support-ko.yaml").read_text(encoding="utf-8"))
    call = Phone(korean)
    call.start()
    call.say(said)
    assert call.transferring_to == "agents:languages=ko"  # Korean-speaking agents first


def test_the_korean_line_does_not_take_other_words_for_the_operator():
    from engine_support import FLOWS_DIR, flow_from

    korean = flow_from((FLOWS_DIR / "acme-support-ko.yaml").read_text(encoding="utf-8"))
    call = Phone(korean)
    call.start()
    call.say("주문 상태")
    assert call.listening_at == "order"
