"""The survey after the call, in whole calls through the webhooks (caller emulator): asked
after self-service and after an agent hangs up, never after a voicemail or when the
caller hangs up; its answers reach the call's record."""
from __future__ import annotations

import pytest
import responses
from survey_line import (
    caller,
    created_legs,
    make_app,
    record_row,
    rest_answers,
    settled,
    talk_to_an_agent,
    updates,
)


@pytest.fixture()
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture()
def app(tmp_path, api):
    return make_app(tmp_path, f"sqlite:///{tmp_path}/records.sqlite3")


def test_after_self_service_the_caller_rates_comments_and_hears_thanks_then_the_goodbye(app):
    call = caller(app)
    call.press("1")
    assert call.heard("open from 9 to 5") and call.heard("press 1 for poor, up to 5")
    assert not call.heard("Goodbye")  # the flow's goodbye waits for the end of the survey
    call.press("4")
    assert call.heard("After the tone") and call.recording is not None
    call.record(url="https://api.twilio.com/Recordings/RE1", duration=7)
    assert call.heard("Thank you for your feedback") and call.heard("Thanks for calling. Goodbye.")
    assert call.state == "ended" and not call.errors
    call.hang_up()
    row = record_row(app, call)
    assert row["outcome"] == "contained" and row["transfer_kind"] is None
    assert row["csat"] == 4
    assert row["survey"] == {"after": "self_service", "status": "answered", "csat": 4,
                             "comment": {"url": "https://api.twilio.com/Recordings/RE1", "duration": 7.0}}
    assert [v["node"] for v in row["path"]] == ["main", "hours", "goodbye"]  # the survey is not a node


def test_a_key_that_is_not_a_rating_is_asked_again_once_then_the_call_ends_with_thanks(app):
    call = caller(app)
    call.press("1")
    call.press("7")
    assert call.heard("Please press a key from 1 to 5") and call.heard("press 1 for poor")
    call.press("9")
    assert call.heard("Thank you for your feedback") and call.state == "ended"
    row = record_row(app, call)
    assert row["csat"] is None and row["survey"]["status"] == "not_rated"
    assert row["outcome"] == "contained"


def test_a_rating_said_aloud_counts(app):
    call = caller(app)
    call.press("1")
    call.say("five")
    assert call.heard("After the tone")
    call.hang_up()  # gone during the comment: Twilio still posts what was recorded, then the status
    row = record_row(app, call)
    assert row["csat"] == 5 and row["survey"]["status"] == "answered"
    assert row["survey"]["comment"]["url"].startswith("https://api.twilio.com/")


def test_silence_at_the_question_ends_the_call_politely_unrated(app):
    call = caller(app)
    call.press("1")
    call.silence()
    assert call.heard("Thanks for calling. Goodbye.") and call.state == "ended"
    row = record_row(app, call)
    assert row["csat"] is None and row["survey"]["status"] == "no_answer"


def test_the_operator_key_during_the_survey_reaches_a_person(app, api):
    rest_answers(api, ["CAann"])
    call = caller(app)
    call.press("1")
    call.press("0")
    assert call.dial.conference == f"ivr-{call.call_sid}"  # holding for a person
    settled(app)
    [leg] = created_legs(api)
    assert leg["To"] == ["client:ann"]
    call.hang_up()
    row = record_row(app, call)
    assert row["transfer_kind"] == "asked" and row["outcome"] == "abandoned_on_hold"
    assert row["csat"] is None and row["survey"]["status"] == "asked_for_person"


def test_after_the_agent_hangs_up_the_caller_is_asked(app, api):
    rest_answers(api, ["CAsam"])
    call = caller(app)
    call.press("2")
    sam = talk_to_an_agent(app, api, call)
    call.dial_result("completed", duration=90)  # the agent hung up: the conference ended, the caller is still here
    assert call.heard("press 1 for poor") and call.state != "ended", call.transcript
    call.press("2")
    call.record(duration=3)
    assert call.heard("Thank you for your feedback") and call.state == "ended"
    assert not sam.errors and not call.errors
    row = record_row(app, call)
    assert row["outcome"] == "transferred" and row["answered_by"] == "client:sam"
    assert row["csat"] == 2 and row["survey"]["after"] == "agent"


def test_a_caller_who_hangs_up_on_the_agent_gets_no_survey_and_the_agents_leg_is_ended(app, api):
    rest_answers(api, ["CAsam"])
    call = caller(app)
    call.press("2")
    talk_to_an_agent(app, api, call)
    call.hang_up()
    row = record_row(app, call)
    assert row["csat"] is None and row["survey"] == {"after": "agent", "status": "caller_hung_up"}
    assert row["outcome"] == "transferred"
    assert [body["Status"] for url, body in updates(api) if url.endswith("/CAsam.json")] == [["completed"]]


def test_no_survey_after_a_voicemail(app):
    call = caller(app)
    call.press("3")
    call.record(duration=10)
    assert call.state == "ended" and not call.heard("rate this call")
    row = record_row(app, call)
    assert row["outcome"] == "voicemail" and row["survey"] is None and row["csat"] is None


def test_after_a_plain_dial_the_caller_is_asked_too(tmp_path):
    app = make_app(tmp_path, f"sqlite:///{tmp_path}/records.sqlite3", warm=False)
    call = caller(app)
    call.press("2")
    sam = call.agent_leg(0)
    sam.press("1")  # takes the call at the whisper
    call.dial_result("completed", duration=60)
    assert call.heard("press 1 for poor"), call.transcript
    call.press("5")
    call.record(duration=2)
    assert call.state == "ended"
    row = record_row(app, call)
    assert row["csat"] == 5 and row["survey"]["after"] == "agent" and row["outcome"] == "transferred"


def test_when_twilio_asks_the_dial_action_of_a_caller_who_hung_up_on_the_agent_no_survey_is_asked(app, api):
    rest_answers(api, ["CAsam"])
    call = caller(app)
    call.press("2")
    talk_to_an_agent(app, api, call)
    action = call.dial.action
    reply = call.post(action[len("https://ivr.example.com"):], CallStatus="completed", DialCallStatus="completed")
    assert "Gather" not in reply.body  # nothing for a caller who is gone
    call.hang_up()  # the status callback after it changes nothing
    row = record_row(app, call)
    assert row["survey"] == {"after": "agent", "status": "caller_hung_up"} and row["outcome"] == "transferred"
    assert [body["Status"] for url, body in updates(api) if url.endswith("/CAsam.json")] == [["completed"]]


def test_a_late_or_repeated_dial_action_after_the_survey_began_changes_nothing(app, api):
    rest_answers(api, ["CAsam"])
    call = caller(app)
    call.press("2")
    talk_to_an_agent(app, api, call)
    action = call.dial.action[len("https://ivr.example.com"):]
    call.dial_result("completed", duration=30)
    assert call.heard("press 1 for poor")
    again = call.post(action, DialCallStatus="completed")  # Twilio's retry of the same Dial action
    assert "press 1 for poor" in again.body  # where the call is: the question again, nothing counted
    call.press("1")
    call.record(duration=1)
    row = record_row(app, call)
    assert row["csat"] == 1 and row["survey"]["status"] == "answered"
