"""Agent pools as whole calls: the caller presses a key, the line offers the call to the
agents of the pool who are available, longest idle first, one at a time; a pass or no
answer moves on to the next agent, never the same one twice; nobody free sends the caller
on at once. Agents sign in to the console (real sign-in, real store); Twilio's REST API is
mocked with ``responses``."""
from __future__ import annotations

from datetime import timedelta

from handoff_line import (
    Clock,
    agent_answers,
    call_updates_ok,
    caller,
    console_answer,
    created_legs,
    leg_created,
    leg_status,
    session_of,
    settled,
    updates,
)
from skills_line import make_app, presence, rung, sign_in

from ivr.records import build_record
from ivr.web.live import LiveCall
from ivr.web.services import services


def test_korean_caller_goes_to_korean_speakers_longest_idle_first_then_anyone(tmp_path, api):
    clock = Clock()
    app = make_app(tmp_path, clock)
    leg_created(api, ["CAleg1", "CAleg2", "CAleg3"])
    call_updates_ok(api)
    consoles = sign_in(app, clock, "jun", "sam", "minji")  # jun idle longest; ann never signs in
    call = caller(app)
    call.dial()
    call.press("1")
    settled(app)
    assert call.dial.conference == f"ivr-{call.call_sid}"  # on hold while agents are offered the call
    assert rung(api) == ["client:jun"]
    assert presence(app) == {"jun": "busy", "sam": "available", "minji": "available", "ann": "away"}

    assert "not offered to you" in console_answer(consoles["minji"], call.call_sid, 1, "accept")["error"]
    assert console_answer(consoles["jun"], call.call_sid, 1, "pass")["result"] == "declined"
    settled(app)
    [(url, body)] = updates(api)  # the ringing leg is stopped; its status callback moves the call on
    assert url.endswith("/Calls/CAleg1.json") and body["Status"] == ["canceled"]
    leg_status(app, created_legs(api)[0], "canceled")
    assert rung(api) == ["client:jun", "client:minji"]  # the other Korean speaker
    assert presence(app)["jun"] == "available" and presence(app)["minji"] == "busy"

    leg_status(app, created_legs(api)[1], "no-answer")  # no Korean speaker left: anyone, never jun again
    assert rung(api) == ["client:jun", "client:minji", "client:sam"]
    sam = agent_answers(app, created_legs(api)[2])
    assert sam.heard("press 1")
    sam.press("1")
    assert sam.dial.conference == f"ivr-{call.call_sid}"
    assert session_of(app, call)["phase"] == "connected"
    assert presence(app) == {"jun": "available", "sam": "busy", "minji": "available", "ann": "away"}

    call.hang_up()
    settled(app)
    assert presence(app)["sam"] == "available"  # the call is over: free again
    live = LiveCall.load(services(app).store, call.call_sid)
    flow = services(app).library.pinned(live.session.flow, live.session.flow_version)
    record = build_record(flow, live.session, services(app).store.events(call.call_sid), clock.at)
    assert [(t.agent, t.status) for t in record.transfers] == [  # every agent rung; the empty pool rang nobody
        ("client:jun", "declined"), ("client:minji", "no-answer"), ("client:sam", "answered")]


def test_the_pool_only_offers_agents_with_every_skill(tmp_path, api):
    clock = Clock()
    app = make_app(tmp_path, clock)
    leg_created(api, ["CAleg1", "CAleg2"])
    call_updates_ok(api)
    sign_in(app, clock, "ann", "jun", "sam", "minji")
    call = caller(app)
    call.dial()
    call.press("2")  # orders: sam and minji have the skill, sam idle longer
    settled(app)
    assert rung(api) == ["client:sam"]
    leg_status(app, created_legs(api)[0], "busy")
    assert rung(api) == ["client:sam", "client:minji"]
    leg_status(app, created_legs(api)[1], "no-answer")  # nobody else has the skill: the fallback
    [(url, redirect)] = updates(api)
    assert call.call_sid in url and "/twilio/resume" in redirect["Url"][0]
    call.update(redirect["Url"][0])
    assert call.heard("leave a message")
    assert rung(api) == ["client:sam", "client:minji"]  # ann and jun were never offered it


def test_nobody_available_sends_the_caller_to_the_fallback_at_once(tmp_path, api):
    clock = Clock()
    app = make_app(tmp_path, clock)
    call_updates_ok(api)
    call = caller(app)
    call.dial()
    call.press("3")
    settled(app)
    assert created_legs(api) == []  # nobody rung, nobody waited for
    [(_url, redirect)] = updates(api)
    call.update(redirect["Url"][0])
    assert call.heard("leave a message")
    assert [t["status"] for t in session_of(app, call)["transfers"]] == ["unavailable"]


def test_away_and_busy_agents_are_skipped_and_a_console_gone_quiet_counts_as_away(tmp_path, api):
    clock = Clock()
    app = make_app(tmp_path, clock)
    leg_created(api, ["CAleg1", "CAleg2", "CAleg3"])
    call_updates_ok(api)
    consoles = sign_in(app, clock, "ann", "sam", "jun", "minji")
    token = consoles["ann"].get("/console/").get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    assert consoles["ann"].post("/console/presence", data={"state": "away", "csrf_token": token}).status_code == 302
    first = caller(app)
    first.dial()
    first.press("3")  # anyone: ann is away, so sam (idle longest of the rest)
    settled(app)
    assert rung(api) == ["client:sam"]
    second = caller(app, caller="+15005550222")
    second.dial()
    second.press("3")  # sam is busy ringing for the first call: jun
    settled(app)
    assert rung(api) == ["client:sam", "client:jun"]

    clock.at += timedelta(seconds=120)  # minji's console has not been seen for two minutes
    assert presence(app)["minji"] == "away"  # so the boards show her away
    third = caller(app, caller="+15005550333")
    third.dial()
    third.press("3")
    settled(app)
    assert rung(api) == ["client:sam", "client:jun"]  # nobody free: straight to the fallback
    assert any(third.call_sid in url for url, _ in updates(api))


def test_without_warm_transfer_an_agent_pool_has_nobody_and_the_next_target_is_dialled(tmp_path):
    clock = Clock()
    app = make_app(tmp_path, clock, warm=False)
    sign_in(app, clock, "jun")
    call = caller(app)
    call.dial()
    call.press("1")  # both pools need warm transfer; the number is dialled directly
    assert [t.address for t in call.dial.targets] == ["+15005550010"]
    assert services(app).warm is None


def test_an_agent_who_becomes_available_while_the_caller_holds_is_offered_the_call_next(tmp_path, api):
    clock = Clock()
    app = make_app(tmp_path, clock)
    leg_created(api, ["CAleg1", "CAleg2"])
    call_updates_ok(api)
    sign_in(app, clock, "jun")
    call = caller(app)
    call.dial()
    call.press("3")
    settled(app)
    assert rung(api) == ["client:jun"]
    sign_in(app, clock, "ann")  # ann signs in while jun's phone rings
    leg_status(app, created_legs(api)[0], "no-answer")
    assert rung(api) == ["client:jun", "client:ann"]  # chosen when the next offer is dialled
