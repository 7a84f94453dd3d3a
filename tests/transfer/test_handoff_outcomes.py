"""Transfer outcomes that are true, as whole calls: a plain <Dial> that was answered and
ended is answered; when nobody answers, the fallback speaks its node's prompt with its
node's settings; a callback promise counts once it was heard."""
from __future__ import annotations

import pytest
import responses
from handoff_line import (
    call_updates_ok,
    caller,
    created_legs,
    leg_created,
    leg_status,
    make_app,
    session_of,
    settled,
    updates,
)

from ivr.web.services import services


def test_a_plain_dial_answered_without_whisper_and_ended_is_answered(tmp_path):
    app = make_app(tmp_path, warm=False)
    call = caller(app)
    call.dial()
    call.press("1")
    assert call.dial.targets[0].address == "+15005550010"
    call.dial_result("completed", duration=300)  # a five-minute conversation, then goodbye
    assert call.state == "ended" and not call.errors
    assert not call.heard_ever("nobody is free") and not call.heard_ever("leave a message")
    session = session_of(app, call)
    assert session["outcome"] == "transferred"
    assert [t["status"] for t in session["transfers"]] == ["answered"]


def test_a_plain_dial_whose_agent_accepts_at_the_whisper_then_talks_is_answered(tmp_path):
    app = make_app(tmp_path, warm=False)
    call = caller(app)
    call.dial()
    call.press("3")
    sam = call.agent_leg(0)
    assert sam.heard("press 1")
    sam.press("1")
    call.dial_result("completed", duration=240)
    assert not call.heard_ever("nobody is free")
    assert session_of(app, call)["outcome"] == "transferred"


def test_a_plain_dial_whose_agent_lets_the_whisper_time_out_is_a_pass(tmp_path):
    app = make_app(tmp_path, warm=False)
    call = caller(app)
    call.dial()
    call.press("3")
    sam = call.agent_leg(0)
    sam.silence()  # the whisper's question times out: the agent leg hangs up
    call.dial_result("completed", duration=12)
    assert [t["status"] for t in session_of(app, call)["transfers"]] == ["declined"]
    assert call.dial.targets[0].address == "ann"  # the next target is rung


@pytest.mark.parametrize("dial_action_first", [False, True])
def test_when_every_agent_fails_the_voicemail_fallback_speaks_its_prompt_with_its_limit(tmp_path, api,
                                                                                      dial_action_first):
    app = make_app(tmp_path, warm=True)
    leg_created(api, ["CAsam", "CAann"])
    call_updates_ok(api)
    call = caller(app)
    call.dial()
    call.press("3")
    settled(app)
    leg_status(app, created_legs(api)[0], "no-answer")
    leg_status(app, created_legs(api)[1], "busy")
    [(_, redirect)] = updates(api)
    call.update(redirect["Url"][0], dial_action_first=dial_action_first)
    assert call.heard("leave a message for our team"), call.transcript
    assert call.last_heard.lower().count("leave a message") == 1  # once, not replayed twice
    assert call.recording is not None and call.recording.max_length == 45
    call.record(duration=20)
    assert call.state == "ended" and not call.errors
    assert services(app).store.list_calls(active=False)[0]["outcome"] == "voicemail"


@pytest.mark.parametrize("dial_action_first", [False, True])
def test_when_every_agent_fails_the_callback_promise_is_heard_before_it_is_recorded(tmp_path, api,
                                                                                   dial_action_first):
    app = make_app(tmp_path, warm=True)
    leg_created(api, ["CAann", "CAnum"])
    call_updates_ok(api)
    call = caller(app)
    call.dial()
    call.press("2")
    settled(app)
    leg_status(app, created_legs(api)[0], "no-answer")
    leg_status(app, created_legs(api)[1], "failed")
    assert session_of(app, call)["outcome"] == ""  # not promised while the caller holds
    [(_, redirect)] = updates(api)
    call.update(redirect["Url"][0], dial_action_first=dial_action_first)
    assert call.heard("call you back at your number within the hour"), call.transcript
    assert call.last_heard.lower().count("call you back") == 1
    call.silence()
    assert call.heard("goodbye") and call.state == "ended" and not call.errors
    session = session_of(app, call)
    assert session["outcome"] == "callback" and session["callback"]["number"] == call.params["From"]


def test_a_caller_who_hangs_up_before_hearing_the_callback_promise_was_promised_nothing(tmp_path, api):
    app = make_app(tmp_path, warm=True)
    leg_created(api, ["CAann", "CAnum"])
    api.add(responses.POST, __import__("handoff_line").CALL_UPDATE,
            json={"code": 21220, "message": "Call is not in-progress", "status": 400}, status=400)
    call = caller(app)
    call.dial()
    call.press("2")
    settled(app)
    leg_status(app, created_legs(api)[0], "no-answer")
    call.hang_up()
    leg_status(app, created_legs(api)[1], "canceled")
    settled(app)
    session = session_of(app, call)
    assert session["outcome"] != "callback" and not session["callback"]
