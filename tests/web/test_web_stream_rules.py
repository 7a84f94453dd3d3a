"""The rules of a call's media streams (ivr/web/streams.py) against any order of events,
on a real SQLite store and a real Redis store: prompts that start streams, sockets of any
stream arriving late, early or twice, sockets closing in any order.

Whatever happens: one socket at most feeds the call, and it is the newest admitted; a
socket of a stream no prompt started is never admitted, nor one older than the stream
that is up; a socket that closes takes the stream down only if it was the call's; no
call starts more than ``MAX_STREAMS`` streams."""
from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stream_support import REDIS_URL, redis_or_skip

from ivr.model.actions import Listen, Speak
from ivr.model.session import Session
from ivr.store import open_store
from ivr.web import streams
from ivr.web.live import LiveCall

SESSION = Session(call_sid="CA1", flow="acme-support-ko", flow_version="v1", started_at="2026-03-04T15:00:00+00:00",
                  caller="+15551230000", to="+15005550006", node="main", phase="listening", language="ko-KR")
MENU = Listen("main", (Speak("주문 상태, 영업 시간"),), phrases=("주문 상태", "상담원"), language="ko-KR")

EVENTS = st.lists(st.one_of(
    st.tuples(st.just("prompt")),  # a prompt rendered while the stream is not up
    st.tuples(st.just("connect"), st.integers(0, 7)),  # a socket of stream n arrives
    st.tuples(st.just("close"), st.integers(0, 20)),  # the i-th open socket closes
    st.tuples(st.just("end")),  # the call ends
), max_size=30)


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "sqlite":
        store = open_store(f"sqlite:///{tmp_path}/calls.sqlite3")
    else:
        store = open_store(redis_or_skip(f"{REDIS_URL}?prefix=rules-{uuid.uuid4().hex}"))
    return store


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=EVENTS)
def test_one_socket_at_most_feeds_a_call_whatever_the_order_of_events(store, events):
    sid = "CA" + uuid.uuid4().hex
    store.save(sid, LiveCall.new(SESSION, [MENU]).to_stored(), None)
    open_sockets: list[tuple[str, int]] = []
    current = ""  # the socket the model says feeds the call
    ended = False
    for event in events:
        live = LiveCall.load(store, sid)
        if event[0] == "prompt":
            was = live.stream_gen
            live = streams.next_stream(store, sid)
            if not was < streams.MAX_STREAMS or live.streaming:
                assert live.stream_gen == was
        elif event[0] == "connect":
            gen = event[1]
            up_gen = streams.socket_gen(live.stream_socket) if live.streaming else 0
            socket = streams.socket_id(gen)
            admitted = streams.admit(store, sid, gen, socket).live is not None
            wanted = not ended and 1 <= gen <= live.stream_gen and gen >= up_gen
            assert admitted == wanted, (event, live)
            if admitted:
                open_sockets.append((socket, gen))
                current = socket
        elif event[0] == "close" and open_sockets:
            socket, _gen = open_sockets.pop(event[1] % len(open_sockets))
            down = streams.went_down(store, sid, socket)
            assert (down is not None) == (socket == current)
            if socket == current:
                current = ""
        elif event[0] == "end":
            store.update(sid, lambda c: {**c.data, "ended_status": "completed"})
            ended = True
        live = LiveCall.load(store, sid)
        assert live.streaming == bool(live.stream_socket) == bool(current)
        assert live.stream_socket == current
        assert live.stream_gen <= streams.MAX_STREAMS
