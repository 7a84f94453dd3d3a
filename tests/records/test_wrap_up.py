"""The agent's wrap-up after a call (the console's form) and the call's record: only an
agent the call was offered to may give it, with the console's CSRF token, from the flow's
codes; the last answer counts and names its agent; an answer given while the caller is
still in the survey reaches the record when the call ends. Whole calls through the
caller emulator, on SQLite and on PostgreSQL."""
from __future__ import annotations

import pytest
import responses
from survey_line import (
    agent_answers,
    caller,
    console,
    created_legs,
    make_app,
    record_row,
    rest_answers,
    settled,
    talk_to_an_agent,
    wrap_up,
)


@pytest.fixture()
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture()
def app(tmp_path, api, records_url):
    line = make_app(tmp_path, records_url)
    yield line
    settled(line)  # no record is still being written when the test's database is dropped


def a_call_ann_took_after_sam_passed(app, api):
    rest_answers(api, ["CAsam", "CAann"])
    call = caller(app)
    call.press("2")
    talk_to_an_agent(app, api, call, passes=1)
    call.dial_result("completed", duration=120)
    call.press("3")
    call.record(duration=2)
    assert call.state == "ended", call.transcript
    return call


def test_an_agent_who_was_offered_the_call_wraps_it_up_and_may_change_it(app, api):
    call = a_call_ann_took_after_sam_passed(app, api)
    ann = console(app, "ann")
    page = ann.get(f"/console/calls/{call.call_sid}").get_data(as_text=True)
    assert "What was this call about?" in page
    assert all(f'value="{code}"' in page for code in ("order question", "complaint", "resolved"))
    assert wrap_up(ann, call.call_sid, "complaint", "yes").status_code == 302
    row = record_row(app, call)
    assert (row["disposition"], row["disposition_by"], row["needed_person"]) == ("complaint", "ann", True)
    assert row["csat"] == 3  # the survey's answer is still there

    sam = console(app, "sam")  # sam passed on the call: it was offered to him too
    assert wrap_up(sam, call.call_sid, "resolved", "no").status_code == 302
    row = record_row(app, call)
    assert (row["disposition"], row["disposition_by"], row["needed_person"]) == ("resolved", "sam", False)
    page = sam.get(f"/console/calls/{call.call_sid}").get_data(as_text=True)
    assert "Saved: <strong>resolved</strong>" in page and "(by sam)" in page


def test_an_agent_the_call_never_rang_is_refused_and_sees_no_form(app, api):
    call = a_call_ann_took_after_sam_passed(app, api)
    eve = console(app, "eve")
    assert "What was this call about?" not in eve.get(f"/console/calls/{call.call_sid}").get_data(as_text=True)
    assert wrap_up(eve, call.call_sid, "resolved", "no").status_code == 403
    assert record_row(app, call)["disposition"] is None


def test_bad_answers_and_forged_forms_change_nothing(app, api):
    call = a_call_ann_took_after_sam_passed(app, api)
    ann = console(app, "ann")
    assert wrap_up(ann, call.call_sid, "made up code", "yes").status_code == 400
    assert wrap_up(ann, call.call_sid, "resolved", "maybe").status_code == 400
    assert wrap_up(ann, call.call_sid, "resolved", "yes", token="forged").status_code == 400
    assert app.test_client().post(f"/console/calls/{call.call_sid}/wrap-up",
                                  data={"code": "resolved", "needed_person": "yes"}).status_code == 401
    row = record_row(app, call)
    assert row["disposition"] is None and row["needed_person"] is None


def test_a_wrap_up_given_while_the_caller_rates_the_call_reaches_the_record(app, api):
    rest_answers(api, ["CAsam"])
    call = caller(app)
    call.press("2")
    talk_to_an_agent(app, api, call)
    call.dial_result("completed", duration=60)
    assert call.heard("press 1 for poor")  # the caller is in the survey: no record yet
    sam = console(app, "sam")
    assert wrap_up(sam, call.call_sid, "order question", "no").status_code == 302
    call.press("4")
    call.record(duration=2)
    row = record_row(app, call)
    assert (row["disposition"], row["disposition_by"], row["needed_person"]) == ("order question", "sam", False)
    assert row["csat"] == 4 and created_legs(api)[0]["To"] == ["client:sam"]
    settled(app)


def test_the_board_keeps_the_call_with_the_agent_while_the_caller_rates_it(app, api):
    rest_answers(api, ["CAsam"])
    call = caller(app)
    call.press("2")
    talk_to_an_agent(app, api, call)
    sam = console(app, "sam")
    assert "wrap up" in sam.get("/console/").get_data(as_text=True)  # connected: the wrap-up is one click away
    call.dial_result("completed", duration=60)
    board = sam.get("/console/").get_data(as_text=True)
    card = board.split(f'id="call-{call.call_sid}"')[1].split("</article>")[0]
    assert 'data-section="connected"' in card and "call over, the caller is rating it with client:sam" in card
    call.press("5")
    call.record(duration=1)
    assert f'id="call-{call.call_sid}"' not in sam.get("/console/").get_data(as_text=True)  # over: off the board


def test_the_agents_answers_judge_the_detector(app, api, records_url, capsys):
    from ivr.cli import main

    rest_answers(api, ["CAann1", "CAann2"])
    upset = caller(app)
    upset.say("I want to cancel my account")  # a topic that needs a person: the detector sends the call
    settled(app)
    agent_answers(app, created_legs(api)[0]).press("1")
    upset.dial_result("completed", duration=40)
    upset.silence()
    quiet = caller(app)
    quiet.silence()
    quiet.silence()  # the retry limit, not the detector, sends this one
    settled(app)
    agent_answers(app, created_legs(api)[1]).press("1")
    quiet.dial_result("completed", duration=40)
    quiet.silence()
    assert upset.state == quiet.state == "ended"
    ann = console(app, "ann")
    assert wrap_up(ann, upset.call_sid, "complaint", "yes").status_code == 302
    assert wrap_up(ann, quiet.call_sid, "order question", "no").status_code == 302
    settled(app)
    assert main(["eval", "escalation", "--from-records", "--records", records_url]) == 0
    out = capsys.readouterr().out
    assert "calls with an answer: 2 (needed a person: 1; did not: 1)" in out
    assert "the detector sent 1: precision 1.00 (1 of 1), recall 1.00 (1 of 1)" in out
