"""Whole calls to the demo support line (call_flows/acme-support.yaml) through the Flask
app, with the caller emulator signing every request like Twilio."""
from __future__ import annotations

import json
import re

import pytest
from web_support import BEFORE_CLOSING, CLOSED, FLOWS_DIR, HOLIDAY, OPEN, PUBLIC_URL, Clock, Line, gather_node, make_app, query


def copy_flows(tmp_path, replaced: dict[str, str]):
    """call_flows/ copied to a temp folder, with some files' text replaced."""
    flows = tmp_path / "flows"
    flows.mkdir()
    for path in FLOWS_DIR.glob("*.yaml"):
        (flows / path.name).write_text(replaced.get(path.name, path.read_text()))
    return flows


AGENTS = [("client", "alice"), ("number", "+15005550010")]


def whisper_url(call, attempt: int) -> str:
    return f"{PUBLIC_URL}/twilio/whisper?call={call.call_sid}&attempt={attempt}"


# --------------------------------------------------------------------- order status

def test_order_status_by_keys_then_goodbye(line):
    call = line.call()
    assert call.heard(f"[play {PUBLIC_URL}/audio/welcome.wav]") and gather_node(call) == "main"
    assert [(p.status, p.content_type) for p in call.played] == [(200, "audio/wav")]
    call.press("1")
    assert call.heard("six digit order number") and gather_node(call) == "order"
    call.press("123456")
    assert call.heard("Your order 123456 has shipped. It should arrive on Friday.")
    assert call.heard("anything else") and gather_node(call) == "anything_else"
    call.press("2")
    assert call.heard("please rate this call") and gather_node(call) == "goodbye"  # served: the survey
    call.press("5")
    call.record(duration=4)
    assert call.heard("Thank you for your feedback") and call.heard("Thanks for calling Acme Outfitters. Goodbye.")
    assert call.state == "ended" and call.ended_by == "hangup"
    session = line.session(call)
    assert session["phase"] == "ended" and session["slots"]["order_id"] == "123456"
    assert session["path"][:4] == ["main", "order", "order_lookup", "order_status"]
    [summary] = [c for c in line.store.list_calls(active=False) if c["call_sid"] == call.call_sid]
    assert summary["finished"] and summary["outcome"]


@pytest.mark.parametrize("said, status", [
    ("two three four five six seven", "been packed and is waiting for pickup"),
    ("it's 3 4 5 6 7 8", "been delivered"),
    ("one two three four five six", "shipped"),
])
def test_order_status_by_speech_with_numbers_as_words(line, said, status):
    call = line.call()
    call.say("where is my order")
    assert gather_node(call) == "order"
    call.say(said, confidence=0.82)
    assert call.heard(f"has {status}"), call.last_heard
    assert gather_node(call) == "anything_else"
    turns = line.session(call)["turns"]
    assert [t["kind"] for t in turns] == ["speech", "speech"] and turns[0]["intent"]


def test_wrong_order_number_twice_goes_to_a_person_with_a_whisper(line):
    call = line.call()
    call.press("1")
    call.press("111111")
    assert call.heard("I couldn't find order 111111") and gather_node(call) == "order_retry"
    call.press("222222")
    assert call.heard("I still can't find that order")
    assert call.state == "dialing"
    [target] = call.dial.targets
    assert (target.kind, target.address) == AGENTS[0]
    assert target.url == whisper_url(call, 1)
    assert query(call.dial.action) == {"attempt": "1"}

    agent = call.agent_leg(0)
    assert agent.heard("Order number not found twice")
    assert agent.heard("Press 1 to take the call")
    assert agent.params["ParentCallSid"] == call.call_sid
    agent.press("1")
    assert agent.heard("Connecting you now") and agent.state == "bridged"
    assert line.session(call)["phase"] == "connected"

    call.dial_result("completed", duration=95)      # the agent hangs up: the caller is asked to rate the call
    assert call.heard("please rate this call")
    call.hang_up()
    session = line.session(call)
    assert session["outcome"] == "transferred"
    assert session["transfers"][-1]["status"] == "answered"
    [summary] = [c for c in line.store.list_calls(active=False) if c["call_sid"] == call.call_sid]
    assert summary["outcome"] == "transferred"


def test_busy_first_target_moves_to_the_next_then_the_queue(line):
    call = line.call()
    call.press("0")
    assert [(t.kind, t.address) for t in call.dial.targets] == [AGENTS[0]]
    call.dial_result("busy")
    assert call.heard("Still trying to reach someone")
    [target] = call.dial.targets
    assert (target.kind, target.address) == AGENTS[1]
    assert target.url == whisper_url(call, 2)
    agent = call.agent_leg(0)
    agent.press("2")                                 # this agent passes
    assert agent.state == "ended"
    call.dial_result("completed")                    # the agent leg ended without taking it
    assert call.state == "queued" and call.queue.name == "support"
    assert call.heard_ever("Thanks for holding")
    statuses = [t["status"] for t in line.session(call)["transfers"]]
    assert statuses == ["busy", "declined"]
    call.dequeue("bridged", queue_time=40)
    call.hang_up()
    assert line.session(call)["phase"] in ("ended", "connected")


def test_nobody_answers_caller_leaves_a_message(line):
    call = line.call()
    call.press("0")
    call.dial_result("no-answer")
    call.dial_result("no-answer")
    call.dequeue("queue-full")
    assert call.heard("leave your name") and call.state == "recording"
    call.record(duration=12)
    assert call.heard("Your message has been recorded") and call.state == "ended"
    assert line.session(call)["outcome"] == "voicemail"


# ------------------------------------------------------------------ silence, confusion

def test_silence_twice_then_a_person_with_escalating_reprompts(line):
    call = line.call()
    first = call.last_heard
    call.silence()
    second = call.last_heard
    assert call.heard("didn't hear") and gather_node(call) == "main"
    call.silence()
    third = call.last_heard
    assert gather_node(call) == "main" and not call.heard("didn't hear")  # one clear message, not three
    assert third.startswith("You can press 1 for order status")
    assert len({first, second, third}) == 3, (first, second, third)   # each one says more
    assert call.heard("Press 1") or call.heard("keypad")
    call.silence()
    assert call.state == "dialing", call.last_heard
    assert [(t.kind, t.address) for t in call.dial.targets] == [AGENTS[0]]
    agent = call.agent_leg(0)
    assert re.search(r"no (answer|response) 3", agent.last_heard, re.I), agent.last_heard
    turns = line.session(call)["turns"]
    assert [t["result"] for t in turns] == ["silence"] * 3


def test_nonsense_three_times_goes_to_a_person(line):
    call = line.call()
    for said in ("purple elephants", "banana boat", "the weather"):
        call.say(said)
        if call.state != "listening":
            break
        assert call.heard("didn't get that")
    assert call.state == "dialing", call.last_heard
    assert len(line.session(call)["turns"]) <= 3


# ----------------------------------------------------------------------- store hours

def test_store_hours_when_open(line):
    call = line.call()
    call.press("3")
    assert call.heard("Our stores are open now")
    assert gather_node(call) == "anything_else"


def test_store_hours_at_closing_time_says_closed(line):
    line.clock.set(BEFORE_CLOSING)                   # Thursday 19:59:30 in New York
    call = line.call()
    assert gather_node(call) == "main"
    line.clock.advance(60)                           # 20:00:30 when they ask
    call.say("when are you open")
    assert call.heard("Our stores are closed right now")


def test_holiday_call_starts_after_hours(line):
    line.clock.set(HOLIDAY)
    call = line.call()
    assert gather_node(call) == "after_hours"
    assert call.heard("We're closed right now")


def test_hours_node_on_a_holiday(tmp_path):
    """The demo's own hours node on the holiday. The line diverts every call on a
    holiday to after_hours, so in this copy of the flows the holiday moves from the
    line's hours to the node's own schedule (same hours), letting the call reach it."""
    text = (FLOWS_DIR / "acme-support.yaml").read_text()
    holidays = '["2026-12-25", "2027-01-01"]'
    assert f"holidays: {holidays}" in text and "hours: {open: hours_open," in text
    text = text.replace(f"holidays: {holidays}", "holidays: []").replace(
        "hours: {open: hours_open,",
        "hours: {schedule: {timezone: America/New_York, open: {mon-fri: \"08:00-20:00\"}, "
        f"holidays: {holidays}}}, open: hours_open,")
    flows = copy_flows(tmp_path, {"acme-support.yaml": text})
    clock = Clock(HOLIDAY)
    line = Line(make_app(tmp_path, clock, flows_dir=flows), clock)
    call = line.call()
    assert gather_node(call) == "main"
    call.press("3")
    assert call.heard("closed today for the holiday")
    line.check()


@pytest.mark.parametrize("at", [CLOSED, OPEN.replace(hour=2)])   # Sunday; Wednesday 21:00 NY
def test_after_hours_start_and_voicemail(line, at):
    line.clock.set(at)
    call = line.call()
    assert gather_node(call) == "after_hours" and call.heard("We're closed right now")
    call.say("leave a message")
    assert call.state == "recording" and call.heard("after the tone")
    rec = call.recording
    assert rec.action.startswith(f"{PUBLIC_URL}/twilio/recording")
    assert rec.status_callback == f"{PUBLIC_URL}/twilio/recording-status"
    call.record(url="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE42", duration=17)
    assert call.heard("Your message has been recorded") and call.state == "ended"
    session = line.session(call)
    assert session["recording"] == {"url": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE42",
                                    "duration": 17.0}
    assert session["outcome"] == "voicemail"
    kinds = [e["type"] for e in line.events(call)]
    assert "RecordingDone" in kinds and "RecordingStatus" in kinds
    status = next(e for e in line.events(call) if e["type"] == "RecordingStatus")
    assert status["status"] == "completed" and status["url"].endswith("RE42")
    [summary] = [c for c in line.store.list_calls(active=False) if c["call_sid"] == call.call_sid]
    assert summary["outcome"] == "voicemail"


def test_after_hours_order_status_still_works(line):
    line.clock.set(CLOSED)
    call = line.call()
    call.press("1")
    call.press("345678")
    assert call.heard("has been delivered")


# -------------------------------------------------------------------------- balance

PIN = "9731"
ACCOUNT = "87654321"


def test_balance_after_account_and_pin_never_leaks_the_pin(tmp_path, clock):
    text = (FLOWS_DIR / "acme-support.yaml").read_text()
    assert '"87654321-9999"' in text
    # the demo flow with a PIN that no random CallSid in the bodies could contain
    flows = copy_flows(tmp_path, {"acme-support.yaml": text.replace('"87654321-9999"', f'"{ACCOUNT}-{PIN}"')})
    line = Line(make_app(tmp_path, clock, flows_dir=flows), clock)

    call = line.call()
    call.say("account balance")
    assert gather_node(call) == "account"
    call.press(ACCOUNT)
    assert gather_node(call) == "pin" and call.heard("four digit PIN")
    call.press(PIN)
    assert call.heard("all paid up"), call.last_heard
    call.press("0")
    agent = call.agent_leg(0)
    assert agent.heard("verified") and not agent.heard("not verified")
    agent.press("1")
    call.dial_result("completed")
    call.hang_up()

    session = line.session(call)
    assert session["verified"] is True
    everything = {
        "twiml and whisper": [r.body for r in [*call.responses, *agent.responses]],
        "event log": json.dumps(line.events(call)),
        "call list": json.dumps(line.store.list_calls(active=None)),
    }
    for where, text in everything.items():
        assert PIN not in str(text), f"the PIN appears in the {where}"
    assert ACCOUNT in everything["event log"]       # the account number is not secret
    line.check()


def test_wrong_pin_twice_goes_to_billing_help(line):
    call = line.call()
    call.press("2")
    call.press("12345678")
    call.press("0000")
    assert call.heard("don't match our records") and gather_node(call) == "account_retry"
    call.press("87654321")
    call.press("1111")
    assert call.heard("couldn't verify your account") and call.state == "dialing"
    agent = call.agent_leg(0)
    assert agent.heard("did not match twice")


def test_balance_due(line):
    call = line.call()
    call.press("2")
    call.say("one two three four five six seven eight")
    call.press("1234")
    assert call.heard("Your balance is 42.50 dollars, due on December 15")


# ------------------------------------------------------------------ people on request

def test_closing_an_account_goes_to_a_person(line):
    call = line.call()
    call.say("I want to close my account")
    assert call.state == "dialing", call.last_heard
    assert [(t.kind, t.address) for t in call.dial.targets] == [AGENTS[0]]
    agent = call.agent_leg(0)
    assert agent.heard("closing an account") or agent.heard("close"), agent.last_heard
    agent.press("1")
    assert line.session(call)["phase"] == "connected"


def test_caller_hangs_up_mid_menu(line):
    call = line.call()
    call.press("1")
    call.hang_up(duration=20)
    session = line.session(call)
    assert session["phase"] == "ended" and session["outcome"] == "abandoned"
    [summary] = [c for c in line.store.list_calls(active=False) if c["call_sid"] == call.call_sid]
    assert summary["finished"] and summary["outcome"] == "abandoned"
    kinds = [e["type"] for e in line.events(call)]
    assert kinds[0] == "CallStarted" and kinds[-1] == "CallEnded"
