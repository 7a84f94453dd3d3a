"""Whole calls through the webhooks (caller emulator, warm transfer with the REST API
mocked, agents answering at the whisper), then ``ivr report``'s figures read back from
the call records, exactly, on SQLite and on PostgreSQL.

The eight calls, and what each adds to the figures:
  C1  opening hours, rates 5 and leaves a comment             contained, csat 5
  C2  opening hours, silent at the survey                      contained
  C3  support: sam passes, ann takes it, rates 3               transferred (flow), csat 3
  C4  0 for a person: ann does not answer, a voicemail         transferred (asked), voicemail
  C5  hangs up at the welcome                                  abandoned
  C6  silent twice: to the desk, hangs up while ann rings      transferred (retries), abandoned on hold
  C7  a wrong key, then opening hours, hangs up in the survey  contained
  C8  "cancel my account": ann takes it, caller hangs up       transferred (escalated)
"""
from __future__ import annotations

import json

import pytest
import responses
from survey_line import (
    agent_answers,
    caller,
    created_legs,
    leg_status,
    make_app,
    records_of,
    rest_answers,
    settled,
    talk_to_an_agent,
    updates,
)

from ivr.records import run_report_cli


@pytest.fixture()
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def eight_calls(app, api):
    rest_answers(api, ["CAsam3", "CAann3", "CAann4", "CAann6", "CAann8"])
    c1 = caller(app)
    c1.press("1")
    c1.press("5")
    c1.record(duration=6)
    assert c1.state == "ended" and c1.heard("Thank you for your feedback")

    c2 = caller(app)
    c2.press("1")
    c2.silence()
    assert c2.state == "ended"

    c3 = caller(app)
    c3.press("2")
    talk_to_an_agent(app, api, c3, passes=1)
    c3.dial_result("completed", duration=200)
    c3.press("3")
    c3.record(duration=3)
    assert c3.state == "ended"

    c4 = caller(app)
    c4.press("0")
    settled(app)
    leg_status(app, created_legs(api)[2], "no-answer")
    [redirect] = [body["Url"][0] for url, body in updates(api) if url.endswith(f"/{c4.call_sid}.json")]
    c4.update(redirect)  # Twilio takes the caller out of the conference to the voicemail
    assert c4.heard("leave a message after the tone"), c4.transcript
    c4.record(duration=12)
    assert c4.state == "ended"

    c5 = caller(app)
    c5.hang_up()

    c6 = caller(app)
    c6.silence()
    c6.silence()
    settled(app)
    assert c6.dial.conference == f"ivr-{c6.call_sid}"
    c6.hang_up()

    c7 = caller(app)
    c7.press("9")
    assert c7.heard("Press 1 for opening hours")
    c7.press("1")
    assert c7.heard("press 1 for poor")
    c7.hang_up()

    c8 = caller(app)
    c8.say("I want to cancel my account")
    settled(app)
    leg = created_legs(api)[4]
    ann = agent_answers(app, leg)
    ann.press("1")
    c8.hang_up()
    settled(app)
    return [c1, c2, c3, c4, c5, c6, c7, c8]


def test_the_report_of_eight_whole_calls(tmp_path, api, records_url, capsys):
    app = make_app(tmp_path, records_url)
    calls = eight_calls(app, api)
    records = records_of(app)
    try:
        assert records.count() == 8
        figures = records.report()
    finally:
        records.close()
    assert figures["calls"] == 8
    assert (figures["contained"], figures["containment_rate"]) == (3, 0.375)
    assert figures["transferred"] == 4 and figures["connected"] == 2
    assert figures["transfer_reasons"] == {"asked": 1, "escalated": 1, "retries": 1, "error": 0, "flow": 1}
    assert (figures["abandoned"], figures["abandoned_on_hold"]) == (1, 1)
    assert figures["outcomes"]["voicemail"] == 1 and figures["outcomes"]["transferred"] == 2
    assert figures["csat"] == {"responses": 2, "average": 4.0}
    nodes = {name: (n["entered"], n["no_input"], n["no_match"], n["hung_up"]) for name, n in figures["nodes"].items()}
    assert nodes == {"main": (8, 2, 2, 1), "hours": (3, 0, 0, 0), "goodbye": (3, 0, 0, 0), "support": (1, 0, 0, 0),
                     "desk": (3, 0, 0, 1), "leave_message": (1, 0, 0, 0)}
    agents = {name: (a["offered"], a["accepted"], a["passed"], a["missed"]) for name, a in figures["agents"].items()}
    assert agents == {"client:sam": (1, 0, 1, 0), "client:ann": (4, 2, 0, 2)}

    assert run_report_cli(["--url", records_url, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["csat"] == {"responses": 2, "average": 4.0}
    assert not any(c.errors for c in calls)
