"""The console and the phone agree on who took the call, whatever order the clicks, the
keys and the status callbacks arrive in; nobody holds forever (the hold sweep)."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import responses
from handoff_line import (
    CALL_UPDATE,
    Clock,
    agent_answers,
    call_updates_ok,
    caller,
    console,
    console_answer,
    created_legs,
    leg_created,
    leg_status,
    make_app,
    session_of,
    settled,
    updates,
)

from ivr.web.services import services


def to_support(app):
    call = caller(app)
    call.dial()
    call.press("3")  # support: client:sam, then client:ann
    settled(app)
    return call


def test_taken_on_the_console_while_the_phone_plays_the_whisper_the_phone_joins_the_caller(tmp_path, api):
    app = make_app(tmp_path, warm=True)
    leg_created(api, ["CAsam"])
    call_updates_ok(api)
    call = to_support(app)
    sam = agent_answers(app, created_legs(api)[0])
    assert sam.heard("press 1")
    assert console_answer(console(app, "sam"), call.call_sid, 1, "accept")["result"] == "accepted"
    settled(app)
    [(url, body)] = updates(api)
    assert url.endswith("/Calls/CAsam.json") and "/twilio/agent-join" in body["Url"][0]
    sam.update(body["Url"][0])  # Twilio carries the redirect out
    assert sam.dial.conference == f"ivr-{call.call_sid}"
    assert session_of(app, call)["phase"] == "connected"


def test_taken_on_the_console_then_the_key_1_on_the_phone_joins_too(tmp_path, api):
    app = make_app(tmp_path, warm=True)
    leg_created(api, ["CAsam"])
    call_updates_ok(api)
    call = to_support(app)
    sam = agent_answers(app, created_legs(api)[0])
    console_answer(console(app, "sam"), call.call_sid, 1, "accept")
    sam.press("1")
    assert sam.dial.conference == f"ivr-{call.call_sid}" and not sam.heard("no longer waiting")


def test_taken_on_the_console_then_the_phone_goes_unanswered_the_next_agent_is_rung(tmp_path, api):
    app = make_app(tmp_path, warm=True)
    leg_created(api, ["CAsam", "CAann"])
    call_updates_ok(api)
    call = to_support(app)
    console_answer(console(app, "sam"), call.call_sid, 1, "accept")
    assert session_of(app, call)["phase"] == "connected"
    leg_status(app, created_legs(api)[0], "no-answer")
    session = session_of(app, call)
    assert session["phase"] == "transfer" and session["transfer_attempt"] == 2
    assert created_legs(api)[1]["To"] == ["client:ann"] and call.state == "dialing"


def test_a_phone_that_passed_cannot_be_overruled_by_a_late_console_click(tmp_path, api):
    app = make_app(tmp_path, warm=True)
    leg_created(api, ["CAsam", "CAann"])
    call_updates_ok(api)
    call = to_support(app)
    sam = agent_answers(app, created_legs(api)[0])
    sam.press("2")
    reply = console_answer(console(app, "sam"), call.call_sid, 1, "accept")
    assert reply["result"] in ("declined", "gone") and session_of(app, call)["phase"] == "transfer"


def test_the_whisper_asks_again_on_a_stray_key_and_2_passes(tmp_path, api):
    app = make_app(tmp_path, warm=True)
    leg_created(api, ["CAsam", "CAann"])
    call_updates_ok(api)
    call = to_support(app)
    sam = agent_answers(app, created_legs(api)[0])
    sam.press("7")
    assert sam.heard("press 1 to take the call") and not sam.heard("passing")
    assert session_of(app, call)["transfers"] == []
    sam.press("2")
    assert sam.heard("passing") and sam.state == "ended"


def test_a_caller_who_hangs_up_at_the_whisper_ends_the_agents_answered_leg(tmp_path, api):
    app = make_app(tmp_path, warm=True)
    leg_created(api, ["CAsam"])
    call_updates_ok(api)
    call = to_support(app)
    agent_answers(app, created_legs(api)[0])
    call.hang_up()
    settled(app)
    [(url, body)] = updates(api)
    assert url.endswith("/Calls/CAsam.json") and body["Status"] == ["completed"]


def test_a_caller_who_hangs_up_while_the_agent_rings_cancels_the_ringing_leg(tmp_path, api):
    app = make_app(tmp_path, warm=True)
    leg_created(api, ["CAsam"])
    call_updates_ok(api)
    call = to_support(app)
    call.hang_up()
    settled(app)
    [(url, body)] = updates(api)
    assert url.endswith("/Calls/CAsam.json") and body["Status"] == ["canceled"]


def test_held_past_the_flows_limit_the_caller_goes_to_the_fallback(tmp_path, api):
    clock = Clock()
    app = make_app(tmp_path, warm=True, clock=clock)
    leg_created(api, ["CAsam"])
    call_updates_ok(api)
    call = to_support(app)
    warm = services(app).warm
    assert warm.sweep(clock.at + timedelta(seconds=100)) == []  # within max_hold (120 s) and the ring time
    clock.at += timedelta(seconds=125)
    [done] = warm.sweep(clock.at)
    assert "over the flow's 120 s" in done
    settled(app)
    sent = {url.rsplit("/", 1)[-1]: body for url, body in updates(api)}
    assert sent["CAsam.json"]["Status"] == ["canceled"]  # the ringing agent is stopped
    redirect = sent[f"{call.call_sid}.json"]["Url"][0]
    call.update(redirect)
    assert call.heard("leave a message for our team") and call.recording.max_length == 45
    assert [t["status"] for t in session_of(app, call)["transfers"]] == ["timeout"]
    assert warm.sweep(clock.at + timedelta(seconds=200)) == []  # nothing left to do


def test_a_lost_status_callback_does_not_leave_the_caller_holding(tmp_path, api):
    clock = Clock()
    flow = __import__("handoff_line").FLOW.replace("max_hold: 120", "max_hold: 900")
    app = make_app(tmp_path, warm=True, clock=clock, flow=flow)
    leg_created(api, ["CAsam", "CAann"])
    call_updates_ok(api)
    call = to_support(app)
    clock.at += timedelta(seconds=20 + 91)  # the ring time and the whisper's grace, and no word from Twilio
    [done] = services(app).warm.sweep(clock.at)
    assert "no word from the agent leg" in done
    settled(app)
    assert [leg["To"] for leg in created_legs(api)] == [["client:sam"], ["client:ann"]]
    assert session_of(app, call)["transfer_attempt"] == 2


def test_taken_on_the_console_but_the_phone_never_joins_the_sweep_moves_on(tmp_path, api):
    clock = Clock()
    flow = __import__("handoff_line").FLOW.replace("max_hold: 120", "max_hold: 900")
    app = make_app(tmp_path, warm=True, clock=clock, flow=flow)
    leg_created(api, ["CAsam", "CAann"])
    call_updates_ok(api)
    call = to_support(app)
    console_answer(console(app, "sam"), call.call_sid, 1, "accept")
    clock.at += timedelta(seconds=200)
    [done] = services(app).warm.sweep(clock.at)
    assert "never joined" in done
    settled(app)
    assert session_of(app, call)["phase"] == "transfer" and created_legs(api)[1]["To"] == ["client:ann"]


def test_a_redirect_off_hold_that_failed_is_asked_again_by_the_sweep(tmp_path, api):
    clock = Clock()
    app = make_app(tmp_path, warm=True, clock=clock)
    leg_created(api, ["CAsam", "CAann"])
    failing = api.add(responses.POST, CALL_UPDATE, json={"message": "down", "status": 503}, status=503)
    call = to_support(app)
    leg_status(app, created_legs(api)[0], "no-answer")
    leg_status(app, created_legs(api)[1], "busy")  # every agent failed: the caller should be taken off hold
    assert call.state == "dialing" and session_of(app, call)["phase"] == "recording"
    api.remove(failing)
    call_updates_ok(api)
    assert services(app).warm.sweep(clock.at + timedelta(seconds=5)) == []  # give Twilio a moment first
    [done] = services(app).warm.sweep(clock.at + timedelta(seconds=30))
    assert "off hold again" in done
    settled(app)
    call.update(updates(api)[-1][1]["Url"][0])
    assert call.heard("leave a message for our team")
    assert services(app).warm.sweep(clock.at + timedelta(seconds=90)) == []  # the caller came back


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_two_hosts_sweeping_at_once_move_the_caller_once(tmp_path, api, store):
    clock = Clock()
    url = f"redis://127.0.0.1:6379/15?prefix=handoff-{uuid.uuid4().hex}" if store == "redis" else ""
    app = make_app(tmp_path, warm=True, clock=clock, store=url)
    other = make_app(tmp_path, warm=True, clock=clock, store=url)  # a second host on the same store
    leg_created(api, ["CAsam"])
    call_updates_ok(api)
    call = to_support(app)
    clock.at += timedelta(seconds=125)
    with ThreadPoolExecutor(2) as pool:  # both hosts' sweepers at the same moment
        done = [line for found in pool.map(lambda host: services(host).warm.sweep(clock.at), [app, other])
                for line in found]
    assert len(done) == 1
    settled(app)
    settled(other)
    assert [t["status"] for t in session_of(app, call)["transfers"]] == ["timeout"]
    assert len([u for u, _ in updates(api) if call.call_sid in u]) == 1


def test_the_whisper_pauses_first_and_the_line_speaks_in_the_flows_voice(tmp_path, api):
    app = make_app(tmp_path, warm=True)
    leg_created(api, ["CAsam"])
    call_updates_ok(api)
    call = to_support(app)
    hold = next(str(r.body) for r in call.responses if "/twilio/hold" in r.url)
    assert 'voice="Polly.Joanna"' in hold
    sam = agent_answers(app, created_legs(api)[0])
    whisper = str(sam.responses[0].body)
    assert whisper.index("<Pause") < whisper.index("<Say") and 'voice="Polly.Joanna"' in whisper
    assert "upset" not in sam.last_heard and "Support question" in sam.last_heard
    sam.press("1")
    assert 'voice="Polly.Joanna"' in str(sam.responses[-1].body)
