"""Callback promises as a worklist: a caller hears the promise to the end (whole calls
through the emulator); the item is due ``within_minutes`` later, overdue ones come first
and are marked; "call back" rings the agent's own phone through Twilio's REST API
(mocked), and when the agent answers the caller is dialled from the line's number and
hears who is calling; the outcome comes from Twilio's callbacks, late or repeated ones
included; purge and forget remove the items."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import parse_qs

import responses
from worklist_support import CALLER, CALLS_API, LINE_NUMBER, OPEN, ask_for_call_back, csrf_of, leave_message

from ivr.records import open_records
from ivr.testing.leg import new_sid
from ivr.web.services import services


def _page(client, path="/console/work/callbacks"):
    reply = client.get(path)
    assert reply.status_code == 200
    return reply.get_data(as_text=True)


def _ring(work, sids):
    """Twilio's Calls API: each create answers the next SID; returns the mocked endpoint."""
    queue = list(sids)

    def create(request):
        return 201, {}, json.dumps({"sid": queue.pop(0), "status": "queued"})
    return work.api.add_callback(responses.POST, CALLS_API, callback=create)


def _agent_answers(work, sid, item_id):
    """Twilio places the agent's leg: it fetches the call back's TwiML once alice answers."""
    leg = work.caller(call_sid=sid, caller=LINE_NUMBER, to="client:alice",
                      status_path=f"/twilio/callback/status?item={item_id}",
                      extra_params={"Direction": "outbound-api"})
    leg.dial(f"/twilio/callback/agent?item={item_id}")
    return leg


def test_a_promise_is_due_in_time_and_an_overdue_one_is_marked(work):
    ask_for_call_back(work)
    work.settle()
    note = work.taken()[0]["body"]
    assert note["event"] == "worklist.callback" and CALLER not in work.taken()[0]["raw"].decode()
    due = note["item"]["due_at"]
    assert OPEN < datetime.fromisoformat(due) <= OPEN + timedelta(minutes=61)

    alice = work.agent()
    page = _page(alice)
    item = note["item"]["id"]
    assert f'id="item-{item}"' in page and CALLER in page and 'data-overdue="no"' in page

    work.clock.advance(2 * 3600)  # two hours later: the promise is overdue
    ask_for_call_back(work, caller="+15557770888")  # a newer one, due later
    work.settle()
    page = _page(alice)
    assert page.index(f'id="item-{item}"') < page.index("+15557770888")  # overdue first
    assert f'class="item overdue" id="item-{item}"' in page and "1 overdue" in page
    assert page.count('data-overdue="yes"') == 1


def test_call_back_rings_the_agent_then_dials_the_caller_and_records_the_outcome(work):
    ask_for_call_back(work)
    work.settle()
    item = work.taken()[0]["body"]["item"]["id"]
    alice = work.agent()
    first, second = new_sid("CA"), new_sid("CA")
    created = _ring(work, [first, second])

    reply = alice.post(f"/console/work/callbacks/{item}/call", data={"csrf_token": csrf_of(_page(alice))},
                       follow_redirects=True)
    assert "Calling you on client:alice" in reply.get_data(as_text=True)
    twice = alice.post(f"/console/work/callbacks/{item}/call", data={"csrf_token": csrf_of(_page(alice))},
                       follow_redirects=True)  # a second click while alice's phone rings
    assert "already ringing" in twice.get_data(as_text=True) and len(created.calls) == 1
    form = parse_qs(created.calls[0].request.body)
    assert form["To"] == ["client:alice"] and form["From"] == [LINE_NUMBER]  # alice first, from the line
    assert form["Url"][0].endswith(f"/twilio/callback/agent?item={item}")

    leg = _agent_answers(work, first, item)
    assert leg.heard("Calling back a caller of messages")
    assert leg.state == "dialing" and [t.address for t in leg.dial.targets] == [CALLER]
    assert leg.dial.current.attrs.get("callerId") == LINE_NUMBER
    callee = leg.agent_leg(0)  # the caller picks up and hears who is calling
    assert callee.heard_ever("call back from the support line")
    assert "calling" in _page(alice)
    leg.dial_result("no-answer")  # ... or rather did not: no answer
    assert leg.heard("did not answer")
    leg.post(f"/twilio/callback/dialed?item={item}", DialCallStatus="no-answer")
    page = _page(alice)
    assert "tag-no-answer" in page

    # the second try reaches them; the first attempt's late status callback changes nothing
    alice.post(f"/console/work/callbacks/{item}/call", data={"csrf_token": csrf_of(page)})
    leg2 = _agent_answers(work, second, item)
    leg2.dial_result("completed", duration=95)
    leg.hang_up()
    assert leg.post(f"/twilio/callback/status?item={item}", CallStatus="no-answer").status == 204  # late, old
    leg2.hang_up()
    page = _page(alice)
    assert "tag-reached" in page and "tag-no-answer" not in page

    alice.post(f"/console/work/items/{item}/done", data={"csrf_token": csrf_of(page)})
    assert f'id="item-{item}"' in _page(alice, "/console/work/callbacks?show=done")
    refused = alice.post(f"/console/work/callbacks/{item}/call", data={"csrf_token": csrf_of(page)},
                         follow_redirects=True)
    assert "done already" in refused.get_data(as_text=True)
    assert len(created.calls) == 2


def test_an_agent_who_does_not_answer_is_recorded_and_the_caller_never_dialled(work):
    ask_for_call_back(work)
    work.settle()
    item = work.taken()[0]["body"]["item"]["id"]
    alice = work.agent()
    sid = new_sid("CA")
    _ring(work, [sid])
    alice.post(f"/console/work/callbacks/{item}/call", data={"csrf_token": csrf_of(_page(alice))})
    leg = work.caller(call_sid=sid, caller=LINE_NUMBER, to="client:alice",
                      status_path=f"/twilio/callback/status?item={item}")
    assert leg.post(f"/twilio/callback/status?item={item}", CallStatus="no-answer").status == 204
    assert "tag-agent-missed" in _page(alice)


def test_twilio_refusing_the_call_back_is_said_to_the_agent(work):
    ask_for_call_back(work)
    work.settle()
    item = work.taken()[0]["body"]["item"]["id"]
    work.api.add(responses.POST, CALLS_API, status=400,
                 json={"code": 21215, "message": "Geo permission", "status": 400})
    alice = work.agent()
    reply = alice.post(f"/console/work/callbacks/{item}/call", data={"csrf_token": csrf_of(_page(alice))},
                       follow_redirects=True)
    assert "Twilio did not place the call back" in reply.get_data(as_text=True)
    assert "not yet" in _page(alice)


def test_forget_and_purge_remove_worklist_items(work):
    ask_for_call_back(work)
    leave_message(work)
    leave_message(work, caller="+15557770777")
    work.settle()
    records = open_records(services(work.app).settings.records_url)
    try:
        assert records.forget(CALLER) == 2
        work.clock.advance(400 * 86400)
        assert records.purge(work.clock()) == 1
    finally:
        records.close()
    alice = work.agent()
    assert "No callback waiting" in _page(alice)
    assert "No voicemail waiting" in _page(alice, "/console/work/voicemails")
