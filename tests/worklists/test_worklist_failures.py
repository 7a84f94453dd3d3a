"""When the worklists cannot do their work: the records are unreachable, the line has no
REST API, a recording is not Twilio's. Callers are served all the same; agents are told
why."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from worklist_support import HOOK_URL, WorkLine, ask_for_call_back, csrf_of, leave_message, make_app

from ivr.records.worklists import WorkItem
from ivr.web.services import services
from ivr.web.worklists import RecordingUnavailable


def test_unreachable_records_leave_callers_served_and_the_pages_say_why(tmp_path, api, caplog):
    with caplog.at_level(logging.ERROR):
        app = make_app(tmp_path, IVR_RECORDS_URL="postgresql://nobody@127.0.0.1:1/none")
    line = WorkLine(app, api)
    call = leave_message(line)
    assert call.state == "ended" and call.heard_ever("leave your message")
    line.settle()
    alice = line.agent()
    for page in ("/console/work/voicemails", "/console/work/callbacks", "/console/reports"):
        reply = alice.get(page)
        assert reply.status_code == 503 and "call records" in reply.get_data(as_text=True), page
    assert line.delivered == []
    line.check()
    services(app).store.close()


def test_without_the_rest_api_there_is_no_call_back_button_and_a_forged_post_is_refused(tmp_path, api):
    line = WorkLine(make_app(tmp_path, TWILIO_ACCOUNT_SID=""), api)
    ask_for_call_back(line)
    line.settle()
    alice = line.agent()
    page = alice.get("/console/work/callbacks").get_data(as_text=True)
    item = line.taken()[0]["body"]["item"]["id"]
    assert f'id="item-{item}"' in page and "Call back</button>" not in page and "Mark done" in page
    reply = alice.post(f"/console/work/callbacks/{item}/call", data={"csrf_token": csrf_of(page)},
                       follow_redirects=True)
    assert "Call backs need Twilio" in reply.get_data(as_text=True)
    assert alice.post(f"/console/work/callbacks/{item}/call").status_code == 400  # no CSRF token
    assert line.app.test_client().post(f"/console/work/callbacks/{item}/call").status_code == 401  # signed out
    line.check()
    services(line.app).store.close()


@pytest.mark.parametrize("url", ["https://evil.example.com/2010-04-01/Accounts/AC1/Recordings/RE1",
                                 "http://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
                                 "https://api.twilio.com.evil.example/Recordings/RE1", ""])
def test_only_twilios_api_is_ever_asked_for_a_recording(work, url):
    desk = work.app.extensions["ivr-worklists"]
    at = datetime(2026, 3, 4, tzinfo=UTC)
    item = WorkItem(1, "voicemail", "CA1", "messages", "+15550000000", "+15005550006", at, None, url, 5.0, None,
                    None, "open", None, None, None, None, None, None)
    with pytest.raises(RecordingUnavailable):
        desk.recording(item)
    assert not [c for c in work.api.calls if "/Recordings/" in c.request.url]  # no recording fetched


def test_a_line_without_the_account_sid_fetches_no_recording(tmp_path, api):
    line = WorkLine(make_app(tmp_path, TWILIO_ACCOUNT_SID=""), api)
    leave_message(line)
    line.settle()
    alice = line.agent()
    page = alice.get("/console/work/voicemails").get_data(as_text=True)
    item = line.taken()[0]["body"]["item"]["id"]
    reply = alice.get(f"/console/work/voicemails/{item}/audio")
    assert reply.status_code == 404 and "TWILIO_ACCOUNT_SID" in reply.get_data(as_text=True)
    assert f'id="item-{item}"' in page
    assert not [c for c in api.calls if "/Recordings/" in c.request.url]  # no recording fetched
    assert [c.request.url for c in api.calls if c.request.url.startswith(HOOK_URL)] == [HOOK_URL]  # the notification
    line.check()
    services(line.app).store.close()


def test_a_caller_who_withheld_their_number_cannot_be_called_back(work):
    ask_for_call_back(work, caller="anonymous")
    work.settle()
    alice = work.agent()
    page = alice.get("/console/work/callbacks").get_data(as_text=True)
    item = work.taken()[0]["body"]["item"]["id"]
    assert f'id="item-{item}"' in page and "number withheld" in page and "Call back</button>" not in page
    reply = alice.post(f"/console/work/callbacks/{item}/call", data={"csrf_token": csrf_of(page)},
                       follow_redirects=True)
    assert "cannot be called back" in reply.get_data(as_text=True)
    assert not [c for c in work.api.calls if "Calls.json" in c.request.url]
