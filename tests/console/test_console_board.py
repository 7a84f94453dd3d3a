"""The live board, Accept / Pass and the call history (test client, real store and bus)."""
from __future__ import annotations

import json
import time

from console_support import board_csrf, caller, session_of, sign_in, to_a_person

from ivr.web.line import CONSOLE_CHANNEL
from ivr.web.services import services


def answer(client, call, action: str, attempt: str = "1", json_reply: bool = True):
    headers = {"Accept": "application/json"} if json_reply else {}
    return client.post(f"/console/calls/{call.call_sid}/answer", headers=headers,
                       data={"attempt": attempt, "action": action, "csrf_token": board_csrf(client)})


def test_a_ringing_transfer_shows_its_context_and_only_its_agent_gets_the_buttons(app):
    call = to_a_person(caller(app))
    waiting = caller(app)
    waiting.dial()                                            # a second call, still in the menu
    alice = sign_in(app, "alice").get("/console/").get_data(as_text=True)
    assert f'id="call-{call.call_sid}"' in alice and "ringing for you" in alice
    assert "order status" in alice                            # what they wanted
    assert "+15551230000" in alice and "not verified" in alice
    assert "111111" in alice                                   # what they pressed, and the slot
    for node in ("main", "order", "order_lookup", "order_retry", "front_desk"):
        assert f"<li><code>{node}</code></li>" in alice                     # the path through the menu
    assert "Asked for a person" in alice and "fill-100" in alice  # score and reasons
    assert 'value="accept"' in alice and 'value="pass"' in alice
    assert f'id="call-{waiting.call_sid}"' in alice             # the automated part
    bob = sign_in(app, "bob").get("/console/").get_data(as_text=True)
    assert f'id="call-{call.call_sid}"' in bob and "ringing client:alice" in bob
    assert 'value="accept"' not in bob


def test_accept_connects_the_caller_like_the_whisper_key_1(app):
    call = to_a_person(caller(app))
    client = sign_in(app, "alice")
    reply = answer(client, call, "accept")
    assert reply.status_code == 200 and reply.json["result"] == "accepted"
    assert reply.json["section"] == "connected" and "connected to client:alice" in reply.json["html"]
    session = session_of(app, call.call_sid)
    assert session["phase"] == "connected" and session["outcome"] == "transferred"
    assert session["transfers"][-1] == {**session["transfers"][-1], "target": "client:alice", "status": "answered"}
    board = client.get("/console/").get_data(as_text=True)
    assert "connected to client:alice" in board
    assert answer(client, call, "accept").status_code == 409   # nothing to take any more


def test_pass_moves_the_call_on_like_the_whisper_key_2(app):
    call = to_a_person(caller(app))
    client = sign_in(app, "alice")
    reply = answer(client, call, "pass", json_reply=False)
    assert reply.status_code == 302                            # a plain form post goes back to the board
    stored = services(app).store.load(call.call_sid)
    assert stored.data["declined_attempt"] == "1"
    assert any(e["type"] == "TransferDeclined" and e["by"] == "client:alice"
               for e in services(app).store.events(call.call_sid))
    board = client.get("/console/").get_data(as_text=True)
    assert "You passed" in board and "passed" in board and 'value="accept"' not in board
    call.dial_result("completed")                              # the ringing leg ends: the next target
    assert [(t.kind, t.address) for t in call.dial.targets] == [("number", "+15005550010")]
    assert session_of(app, call.call_sid)["transfers"][0]["status"] == "declined"


def test_another_agent_cannot_act_on_a_call_it_was_not_offered(app):
    call = to_a_person(caller(app))
    bob = sign_in(app, "bob")
    for action in ("accept", "pass"):
        reply = answer(bob, call, action)
        assert reply.status_code == 403 and "not offered to you" in reply.json["error"]
    stored = services(app).store.load(call.call_sid)
    assert stored.data["session"]["phase"] == "transfer" and "declined_attempt" not in stored.data
    call.dial_result("no-answer")                              # attempt 2 rings +15005550010: not alice's
    alice = sign_in(app, "alice")
    assert answer(alice, call, "accept", attempt="2").status_code == 403
    assert answer(alice, call, "accept", attempt="1").status_code == 409  # her attempt is over
    assert session_of(app, call.call_sid)["phase"] == "transfer"


def test_an_unknown_action_or_call_is_refused(app):
    call = to_a_person(caller(app))
    client = sign_in(app, "alice")
    assert answer(client, call, "maybe").status_code == 400
    reply = client.post("/console/calls/CA-none/answer", headers={"Accept": "application/json"},
                        data={"attempt": "1", "action": "accept", "csrf_token": board_csrf(client)})
    assert reply.status_code == 409 and reply.json["result"] == "gone"


class Stream:
    """The event stream of a test client, read with a deadline (the server's heartbeat
    makes every read return within a fraction of a second)."""

    def __init__(self, response):
        self.response = response
        self.chunks = iter(response.response)
        self.buffer = ""

    def next_event(self, timeout: float = 5.0) -> tuple[str, dict | str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "\n\n" in self.buffer:
                block, self.buffer = self.buffer.split("\n\n", 1)
                if block.startswith(":"):
                    return "comment", block
                fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
                if "event" in fields:
                    return fields["event"], json.loads(fields["data"])
                continue
            chunk = next(self.chunks)
            self.buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        raise AssertionError(f"no event within {timeout} s")

    def wait_for(self, event: str, check=lambda data: True, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while True:
            kind, data = self.next_event(max(0.1, deadline - time.monotonic()))
            if kind == event and check(data):
                return data


def open_stream(client) -> Stream:
    response = client.get("/console/events", buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    return Stream(response)


def test_the_event_stream_sends_a_snapshot_then_each_change_and_heartbeats(app):
    early = caller(app)
    early.dial()
    stream = open_stream(sign_in(app, "alice"))
    snapshot = stream.wait_for("snapshot")
    assert [c["call_sid"] for c in snapshot["calls"]] == [early.call_sid]
    assert snapshot["calls"][0]["section"] == "automated"
    call = to_a_person(caller(app))
    card = stream.wait_for("call", lambda d: d["call_sid"] == call.call_sid and d["section"] == "waiting")
    assert card["mine"] is True
    assert "ringing for you" in card["html"] and "order status" in card["html"] and 'value="accept"' in card["html"]
    assert stream.wait_for("comment").startswith(": heartbeat")
    early.hang_up()
    assert stream.wait_for("call", lambda d: d["call_sid"] == early.call_sid)["section"] == "ended"
    stream.response.close()


def test_another_agents_stream_shows_the_transfer_without_buttons(app):
    stream = open_stream(sign_in(app, "bob"))
    stream.wait_for("snapshot")
    call = to_a_person(caller(app))
    card = stream.wait_for("call", lambda d: d["call_sid"] == call.call_sid and d["section"] == "waiting")
    assert card["mine"] is False and 'value="accept"' not in card["html"] and "ringing client:alice" in card["html"]
    stream.response.close()


def test_a_closed_stream_frees_its_subscription_and_every_stream_ends(app):
    bus = services(app).store.bus
    stream = open_stream(sign_in(app, "alice"))
    stream.wait_for("snapshot")
    assert bus._queues.get(CONSOLE_CHANNEL)                     # subscribed while open
    stream.response.close()                                     # the browser went away
    assert not bus._queues.get(CONSOLE_CHANNEL)
    app.config["IVR_CONSOLE_STREAM_SECONDS"] = 0.5
    client = sign_in(app, "alice")
    started = time.monotonic()
    body = client.get("/console/events").get_data(as_text=True)  # buffered: returns when the stream ends
    assert time.monotonic() - started < 5 and "event: snapshot" in body and body.startswith("retry:")
    assert not bus._queues.get(CONSOLE_CHANNEL)


def test_secret_slots_never_reach_the_console(app):
    call = caller(app)
    call.dial()
    call.press("2")
    call.press("87654321")
    call.press("9999")                                          # the PIN
    assert call.heard("all paid up")
    call.press("0")
    assert call.state == "dialing"
    client = sign_in(app, "alice")
    board = client.get("/console/").get_data(as_text=True)
    assert "verified" in board and "not verified" not in board
    assert "87654321" in board and "9999" not in board and "••••" in board
    call.dial_result("no-answer")
    call.hang_up()
    detail = client.get(f"/console/calls/{call.call_sid}").get_data(as_text=True)
    assert "87654321" in detail and "9999" not in detail


def test_history_lists_finished_calls_with_transcript_path_and_outcome(app):
    call = to_a_person(caller(app))
    client = sign_in(app, "alice")
    answer(client, call, "accept")
    call.dial_result("completed", duration=60)
    call.hang_up()
    history = client.get("/console/calls").get_data(as_text=True)
    assert call.call_sid in history and "transferred" in history
    detail = client.get(f"/console/calls/{call.call_sid}")
    assert detail.status_code == 200
    text = detail.get_data(as_text=True)
    assert "transferred" in text and "order status" in text
    assert "pressed <kbd>111111</kbd>" in text and "pressed <kbd>0</kbd>" in text
    assert "<li><code>order_retry</code></li>" in text and "<li><code>front_desk</code></li>" in text
    assert "TransferResult" in text and "status=answered" in text
    assert client.get("/console/calls/CA-unknown").status_code == 404
