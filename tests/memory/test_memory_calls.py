"""Caller memory, as callers live it: whole calls through the webhooks (the caller
emulator signs like Twilio), the profile kept in the call records on SQLite and on
PostgreSQL, read when a call starts and written when it ends.

Every test places real calls one after another from one number and listens: the first
call hears the notice, a returning caller hears their last topic offered (and can take
it, refuse it, or ignore it), a verified caller is not asked for the PIN again within
the flow's 30 minutes, a Korean caller is greeted in Korean, and after ``ivr forget``
or from a withheld number nothing is remembered."""
from __future__ import annotations

import io

from memory_support import MEMORY_KEY, settle
from sqlalchemy import text
from web_support import Line, gather_node

from ivr.model.session import Session
from ivr.records import run_forget_cli, run_purge_cli
from ivr.records.memory import caller_key
from ivr.web.services import services

NUMBER = "+15551230000"
NOTICE = "We remember your recent calls"
WELCOME = "Welcome back to Acme Outfitters"


def order_call(line: Line, order: str = "123456", number: str = NUMBER):
    """A caller checks an order by keys and says that's all."""
    call = line.call(caller=number)
    if call.heard(WELCOME):
        call.press("2")  # not the last topic: the menu
    call.press("1")
    call.press(order)
    assert call.heard("Your order " + order)
    call.press("2")  # that's all (the goodbye, or the survey's question first)
    call.hang_up()
    settle(line.app)
    return call


def at_main_menu(call) -> bool:
    """The caller waits at the main menu, whose welcome is a recording (audio/welcome.wav)."""
    return gather_node(call) == "main" and call.played[-1].url.endswith("/audio/welcome.wav")


def rows(line: Line, sql: str) -> list[dict]:
    with services(line.app).keeper.records.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql))]


def test_a_returning_caller_is_offered_their_last_order_and_takes_it(line):
    first = order_call(line)
    assert first.heard_ever(NOTICE)  # the first call the line remembers says so

    line.clock.advance(20 * 60)
    again = line.call(caller=NUMBER)
    assert again.heard(WELCOME) and again.heard("order status, 1 2 3 4 5 6 again")
    assert not again.heard(NOTICE)  # said once only
    again.press("1")  # yes: the order is looked up again, the number is not asked for
    assert again.heard("Your order 123456 has shipped")
    assert not again.heard_ever("six digit order number")
    again.press("2")
    again.hang_up()
    settle(line.app)
    assert "123456" not in repr(line.events(again))  # the profile stays in the records, never in the call's log

    kept = rows(line, "SELECT topic, slots, outcome FROM caller_calls ORDER BY at")
    assert [r["topic"] for r in kept] == ["order status", "order status"]
    assert all(NUMBER not in repr(r) for r in rows(line, "SELECT * FROM caller_memory"))  # the key, never the number
    marked = rows(line, "SELECT caller_key, topic FROM calls")
    assert {r["caller_key"] for r in marked} == {caller_key(NUMBER, MEMORY_KEY)}


def test_a_caller_who_says_no_hears_the_menu_and_one_who_answers_the_menu_is_not_asked_twice(line):
    order_call(line)
    line.clock.advance(60)
    no = line.call(caller=NUMBER)
    assert no.heard(WELCOME)
    no.press("2")  # no: the plain menu
    assert at_main_menu(no)
    no.press("3")
    assert no.heard("stores are")
    no.hang_up()
    settle(line.app)

    line.clock.advance(60)
    other = line.call(caller=NUMBER)  # the last topic is now store hours, no slot: offered as such
    assert other.heard("Are you calling about store hours again")
    other.say("billing")  # the menu's own answer at the welcome: the billing question, at once
    assert other.heard("eight digit account number")
    other.hang_up()


def test_a_verified_caller_is_not_asked_for_the_pin_within_the_window(line):
    first = line.call(caller=NUMBER)
    first.press("2")
    first.press("12345678")
    assert first.heard("four digit PIN")
    first.press("1234")
    assert first.heard("Your balance is 42.50 dollars")
    first.hang_up()
    settle(line.app)

    line.clock.advance(10 * 60)  # within verified_minutes (30)
    second = line.call(caller=NUMBER)
    assert second.heard("account balance, 1 2 3 4 5 6 7 8 again")
    second.press("1")
    assert second.heard("Your balance is 42.50 dollars")
    assert not second.heard_ever("PIN")
    second.hang_up()
    settle(line.app)

    # two hours later: the PIN's 30 minutes have long passed (and the first call is out of
    # the two-hour repeat window, so this is a second call about the balance, not a third)
    line.clock.advance(115 * 60)
    third = line.call(caller=NUMBER)
    third.press("1")  # the shortcut fills the account number; the PIN is asked again
    assert third.heard("four digit PIN")
    third.press("1234")
    assert third.heard("Your balance is 42.50")
    third.hang_up()


def test_verification_counts_only_for_the_account_it_was_made_with(line):
    first = line.call(caller=NUMBER)
    first.press("2")
    first.press("12345678")
    first.press("1234")
    first.hang_up()
    settle(line.app)
    line.clock.advance(5 * 60)
    second = line.call(caller=NUMBER)
    second.press("2")  # no shortcut: the menu
    second.press("2")  # billing
    second.press("87654321")  # another account: not the one verified
    assert second.heard("four digit PIN")
    second.hang_up()


def test_a_korean_caller_is_greeted_in_korean_and_can_go_back_to_english(line):
    first = line.call(caller=NUMBER)
    first.press("9")  # Korean
    assert first.heard("애크미")
    first.press("1")
    first.press("1234")
    assert first.heard("배송 중입니다")
    first.hang_up()
    settle(line.app)

    line.clock.advance(15 * 60)
    again = line.call(caller=NUMBER)
    assert again.heard("다시 전화해 주셔서 감사합니다") and again.heard("주문 상태, 1 2 3 4")
    assert not again.heard("Welcome")  # the first words are Korean
    again.press("2")  # no: the Korean menu, with the way back to English
    assert again.heard("For English, press 9")
    again.press("9")
    assert at_main_menu(again) and not again.heard(WELCOME)  # the English menu, no second welcome
    again.press("3")
    assert again.heard("stores are")
    again.hang_up()
    settle(line.app)

    line.clock.advance(60)
    english = line.call(caller=NUMBER)  # the last call ended in English: greeted in English
    assert english.heard(WELCOME) and english.heard("store hours")


def test_after_ivr_forget_nothing_is_remembered(line, records_url):
    order_call(line)
    line.clock.advance(60)
    order_call(line)
    out, err = io.StringIO(), io.StringIO()
    assert run_forget_cli([NUMBER, "--url", records_url], out, err, memory_key=MEMORY_KEY) == 0
    assert "deleted 1 caller memory profile(s)" in out.getvalue()
    assert rows(line, "SELECT * FROM caller_calls") == []
    assert rows(line, "SELECT * FROM caller_memory") == []

    line.clock.advance(60)
    third = line.call(caller=NUMBER)
    assert third.heard(NOTICE) and not third.heard(WELCOME)  # a stranger again
    third.hang_up()


def test_withheld_numbers_get_no_memory_and_no_notice(line):
    for number in ("anonymous", "+266696687", "Restricted", ""):
        for _ in range(2):
            call = line.call(caller=number)
            assert not call.heard(NOTICE) and not call.heard(WELCOME)
            assert at_main_menu(call)
            call.press("1")
            call.press("123456")
            call.press("2")
            call.hang_up()
            settle(line.app)
            line.clock.advance(60)
    assert rows(line, "SELECT * FROM caller_memory") == []
    assert rows(line, "SELECT * FROM caller_calls") == []
    assert {r["caller_key"] for r in rows(line, "SELECT caller_key FROM calls")} == {None}


def test_a_third_call_about_one_order_reaches_the_detector_and_the_agent_hears_it(line):
    order_call(line)
    line.clock.advance(40 * 60)
    second = line.call(caller=NUMBER)
    second.press("1")
    assert second.heard("has shipped")  # a second call is a hint only: still served
    second.press("2")
    second.hang_up()
    settle(line.app)

    line.clock.advance(50 * 60)
    third = line.call(caller=NUMBER)
    third.press("1")  # the same order, a third time within two hours: a person
    assert not third.heard("has shipped")
    session = Session.from_dict(line.session(third))
    assert session.phase == "transfer"
    details = [r.detail for r in session.reasons if r.signal == "repeat_contact"]
    assert details and details[0].startswith("Third call about order status in 90 minutes"), details
    agent = third.agent_leg(0)  # the agent's phone rings: the whisper says why in a few words
    assert agent.heard("Third call about order status in 90 minutes"), agent.last_heard
    agent.press("2")  # passes; the caller is never dropped
    assert third.state in ("dialing", "queued", "recording", "listening"), third.state


def test_retention_ends_a_profile(line, records_url):
    order_call(line)
    out = io.StringIO()
    later = (line.clock.at.replace(year=line.clock.at.year + 1)).isoformat()
    assert run_purge_cli(["--url", records_url, "--now", later], out, io.StringIO()) == 0
    assert "deleted 1 caller profile(s)" in out.getvalue()
    line.clock.advance(60)
    again = line.call(caller=NUMBER)
    assert again.heard(NOTICE) and not again.heard(WELCOME)


def test_a_repeated_webhook_while_the_shortcut_is_offered_says_the_welcome_again(line):
    order_call(line)
    line.clock.advance(60)
    again = line.call(caller=NUMBER)
    assert again.heard(WELCOME)
    again.update("https://ivr.example.com/twilio/voice")  # Twilio asks for the incoming call's answer again
    assert again.heard(WELCOME) and again.heard("order status, 1 2 3 4 5 6")  # not the menu, where 1 means another thing
    again.press("1")
    assert again.heard("has shipped")
    again.hang_up()
