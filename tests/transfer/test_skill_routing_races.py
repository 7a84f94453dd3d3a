"""Agent pools when Twilio's callbacks come late, twice or never: an earlier agent's leg
never decides the current offer, a lost call end does not leave an agent busy for ever,
and an agent rung directly (not through a pool) is busy while it rings."""
from __future__ import annotations

import uuid

from handoff_line import (
    Clock,
    _path,
    agent_answers,
    call_updates_ok,
    caller,
    created_legs,
    leg_created,
    leg_status,
    session_of,
    settled,
    updates,
)
from skills_line import FLOW, make_app, presence, rung, sign_in

from ivr.web.services import services


def test_a_late_or_repeated_callback_of_an_earlier_agents_leg_does_not_move_the_call_on(tmp_path, api):
    clock = Clock()
    app = make_app(tmp_path, clock)
    leg_created(api, ["CAleg1", "CAleg2", "CAleg3"])
    call_updates_ok(api)
    sign_in(app, clock, "jun", "minji")
    call = caller(app)
    call.dial()
    call.press("1")
    settled(app)
    jun_leg, = created_legs(api)
    jun = agent_answers(app, jun_leg)  # jun's phone plays the whisper...
    jun.press("2")  # ...and he passes: his leg ends
    leg_status(app, jun_leg, "completed")
    assert rung(api) == ["client:jun", "client:minji"]
    leg_status(app, jun_leg, "completed")  # Twilio repeats jun's callback
    leg_status(app, jun_leg, "no-answer")  # or a stale one arrives out of order
    assert rung(api) == ["client:jun", "client:minji"]  # minji is still the one ringing
    assert [t["status"] for t in session_of(app, call)["transfers"]] == ["declined"]

    late = caller(app, caller="+15005550006", to="client:jun", status_path=None)
    late.dial(path=_path(jun_leg["Url"][0]))  # jun's old whisper, fetched late
    said = str(late.responses[-1].body)
    assert "<Hangup" in said and "<Gather" not in said  # told the call has gone on (in Korean), never asked to take it
    minji = agent_answers(app, created_legs(api)[1])
    minji.press("1")
    assert session_of(app, call)["phase"] == "connected"
    assert presence(app)["minji"] == "busy" and presence(app)["jun"] == "available"


def test_an_agent_whose_call_ended_without_word_is_freed_by_the_sweep(tmp_path, api):
    clock = Clock()
    app = make_app(tmp_path, clock)
    sign_in(app, clock, "sam")
    store = services(app).store
    assert store.presence.claim("sam", "CAgone", clock.at.timestamp())  # a call this line no longer has
    assert presence(app)["sam"] == "busy"
    done = services(app).warm.sweep(clock.at)
    assert done == ["sam: free again (their call had ended)"]
    assert presence(app)["sam"] == "available"


def test_an_agent_rung_directly_is_busy_while_it_rings_and_skipped_by_pools(tmp_path, api):
    clock = Clock()
    app = make_app(tmp_path, clock, flow=FLOW.replace('to: [{agents: {}}], reason: "Asked for a person"',
                                                      'to: [client:ann], reason: "Asked for a person"'))
    leg_created(api, ["CAleg1", "CAleg2"])
    call_updates_ok(api)
    sign_in(app, clock, "ann")
    direct = caller(app)
    direct.dial()
    direct.press("3")  # rings client:ann directly
    settled(app)
    assert rung(api) == ["client:ann"] and presence(app)["ann"] == "busy"
    pooled = caller(app, caller="+15005550222")
    pooled.dial()
    pooled.press("2")  # orders pool: ann has no such skill anyway; nobody else signed in
    settled(app)
    assert rung(api) == ["client:ann"]
    leg_status(app, created_legs(api)[0], "no-answer")
    assert presence(app)["ann"] == "available"  # her phone stopped ringing: as she was


def test_when_presence_cannot_be_saved_agents_still_sign_in_and_a_pooled_caller_reaches_a_person(tmp_path, api,
                                                                                               monkeypatch):
    from ivr.store import StoreUnavailable
    from ivr.store.presence import SQLitePresence

    clock = Clock()
    app = make_app(tmp_path, clock)
    call_updates_ok(api)

    def down(self, name, state, expected):
        raise StoreUnavailable("presence: the store is down")

    consoles = sign_in(app, clock, "sam")  # available, then the store stops taking writes
    monkeypatch.setattr(SQLitePresence, "_write", down)
    assert sign_in(app, clock, "ann")["ann"].get("/console/").status_code == 200  # signing in still works
    board = consoles["sam"].get("/console/")
    assert board.status_code == 200
    token = board.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    reply = consoles["sam"].post("/console/presence", data={"state": "away", "csrf_token": token},
                                 headers={"Accept": "application/json"})
    assert reply.status_code == 503 and "could not be saved" in reply.get_json()["error"]
    call = caller(app)
    call.dial()
    call.press("3")
    settled(app)
    [(_url, redirect)] = [(u, b) for u, b in updates(api) if call.call_sid in u]
    assert "rescue=1" in redirect["Url"][0]  # an apology and a person dialled directly, never silence
    call.update(redirect["Url"][0])
    assert call.state == "dialing"


def test_a_caller_who_hangs_up_while_a_pooled_agent_rings_frees_the_agent_and_stops_the_phone(tmp_path, api):
    clock = Clock()
    app = make_app(tmp_path, clock)
    leg = f"CA{uuid.uuid4().hex}"  # this test's own leg: hold sweeps of earlier tests' apps may still cancel theirs
    leg_created(api, [leg])
    call_updates_ok(api)
    sign_in(app, clock, "sam")
    call = caller(app)
    call.dial()
    call.press("3")
    settled(app)
    assert rung(api) == ["client:sam"] and presence(app)["sam"] == "busy"
    call.hang_up()
    settled(app)
    assert presence(app)["sam"] == "available"
    assert [body["Status"] for url, body in updates(api) if url.endswith(f"/Calls/{leg}.json")] == [["canceled"]]
