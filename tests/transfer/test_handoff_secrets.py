"""A secret answer (a PIN), keyed or said aloud, never reaches a transcript, a log, a
reason, the whisper, the console, the CRM, a Flex task or the stored call; the value
lives only as long as the lookup that needs it."""
from __future__ import annotations

import json
import logging

import pytest
import responses
from handoff_line import agent_answers, call_updates_ok, caller, console, created_legs, leg_created, make_app, settled

from ivr.model.context import MASK
from ivr.web.services import services

PIN, SAID = "9731", "nine seven three one"
ACCOUNT = "87654321"
FLOW = """
flow: handoff
numbers: ["+15005550006"]
operator: {to: desk}
crm: {url: "https://crm.example.com/ivr", secret_env: CRM_SECRET}
start: account
nodes:
  account:
    collect:
      prompt: "Say or key in your eight digit account number."
      slot: {name: account_number, kind: digits, length: 8}
      go: pin
  pin:
    collect:
      prompt: "Now say or key in your four digit PIN."
      slot: {name: pin, kind: digits, length: 4, secret: true}
      go: check
  check:
    lookup:
      table:
        key: "{account_number}-{pin}"
        rows:
          "87654321-9731": {balance: "0"}
      verifies: true
      found: paid_up
      not_found: desk
  paid_up:
    say: "Your account is all paid up."
    go: desk
  desk:
    transfer: {to: [client:sam, "flex:WW0123456789abcdef0123456789abcdef"], reason: "Balance question",
               fallback: bye}
  bye:
    hangup: "Sorry, nobody could take your call. Goodbye."
"""


@pytest.fixture()
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.POST, "https://crm.example.com/ivr", json={}, status=200)
        yield rsps


def leaks(text: str) -> bool:
    return PIN in text or SAID in text.lower() or "9 7 3 1" in text


@pytest.mark.parametrize("how", ["said", "keyed"])
def test_a_pin_said_or_keyed_reaches_no_one_in_a_warm_transfer(tmp_path, api, monkeypatch, caplog, how):
    monkeypatch.setenv("CRM_SECRET", "s3cret")
    caplog.set_level(logging.DEBUG)
    app = make_app(tmp_path, warm=True, flow=FLOW)
    leg_created(api, ["CAsam"])
    call_updates_ok(api)
    call = caller(app)
    call.dial()
    call.press(ACCOUNT)
    if how == "said":
        call.say(SAID)
    else:
        call.press(PIN)
    assert call.heard("all paid up"), call.transcript
    store = services(app).store
    assert store.load(call.call_sid).data["session"]["slots"]["pin"] == MASK  # the lookup is done with it
    settled(app)
    sam = agent_answers(app, created_legs(api)[0])
    assert sam.heard("verified")
    page = console(app, "sam").get(f"/console/calls/{call.call_sid}").get_data(as_text=True)
    board = console(app, "sam").get("/console/").get_data(as_text=True)
    sam.press("1")
    call.dial_result("completed", duration=30)
    call.hang_up()
    crm = [c.request.body for c in api.calls if c.request.url.startswith("https://crm.example.com")]
    assert crm, "the CRM was told of the transfer"
    everything = {
        "what the caller and the agent heard (TwiML)": [r.body for r in [*call.responses, *sam.responses]],
        "the console": page + board,
        "the CRM record": crm,
        "the stored call": json.dumps(store.load(call.call_sid).data),
        "the event log": json.dumps(store.events(call.call_sid)),
        "the call list": json.dumps(store.list_calls(active=None)),
        "the logs": caplog.text,
    }
    for where, text in everything.items():
        assert not leaks(str(text)), f"the PIN appears in {where}"
    assert ACCOUNT in everything["the event log"]  # the account number is not secret


def test_a_pin_said_aloud_stays_out_of_a_flex_task(tmp_path):
    app = make_app(tmp_path, warm=False, flow=FLOW)
    call = caller(app)
    call.dial()
    call.press(ACCOUNT)
    call.say(SAID)
    assert call.heard("all paid up")
    call.dial_result("no-answer")  # client:sam: the Flex task is next
    assert call.state == "queued"
    task = call.responses[-1].body
    assert "ivr" in str(task) and not leaks(str(task))
    assert not leaks(json.dumps(services(app).store.load(call.call_sid).data))


def test_a_wrong_pin_said_aloud_is_masked_in_the_transcript_and_the_reason(tmp_path):
    app = make_app(tmp_path, warm=False, flow=FLOW)
    call = caller(app)
    call.dial()
    call.press(ACCOUNT)
    call.say("nine seven three")  # three digits: not a PIN, still a secret
    call.say("seven three one nine nine")
    if call.gather is not None:
        call.say("nine seven three one two")
    assert call.state == "dialing"  # handed to a person after the failures
    agent = call.agent_leg(0)
    data = json.dumps(services(app).store.load(call.call_sid).data)
    assert not leaks(data) and "seven three" not in data and "seven three" not in agent.last_heard
