"""A media stream that drops, never starts, or is lost with a retried webhook: whole
calls on the Korean demo line over real websockets, with the real Korean Vosk model.

The caller is never left talking to nobody: until a stream's ``start`` has reached the
server the prompt's Gather also takes Twilio's own speech; a prompt of a call whose
stream is not up starts a new one; only one socket ever feeds a call.
"""
from __future__ import annotations

import contextlib
import logging
import xml.etree.ElementTree as ET

import pytest
import responses
from stream_support import MediaStream, Server, Twilio, audio, korean_call, wait_for
from websockets.exceptions import ConnectionClosed

PRIVATE = ("주문 상태", "이 삼 사 오", "오 공 이")  # what callers said: never in a log line


@pytest.fixture
def server(tmp_path):
    server = Server(f"sqlite:///{tmp_path}/calls.sqlite3", var_dir=tmp_path)
    yield server
    server.close()


@pytest.fixture
def twilio(server):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield Twilio(rsps, server)


def stream_up(server, call, name: str) -> bool:
    live = server.live(call.params["CallSid"])
    return live is not None and live.streaming and live.stream_socket.startswith(name.rsplit("-", 1)[1] + "/")


def no_private_words(caplog) -> None:
    for record in caplog.records:
        text = record.getMessage()
        assert not any(words in text for words in PRIVATE), text


def test_until_the_stream_is_up_the_prompt_hears_the_caller_through_twilio(server, twilio):
    """The stream never connects (its socket was refused, or Twilio could not reach us):
    the caller is heard by Twilio's recogniser, and the next prompt tries a new stream."""
    call = korean_call(server)
    assert call.heard("주문 상태, 영업 시간"), call.transcript
    assert [s.name for s in call.streams] == ["ivr-speech-1"]
    assert call.gather.input == "dtmf speech" and "주문 상태" in (call.gather.hints or "")

    call.say("주문 상태")  # Twilio's recogniser heard it
    assert call.heard("주문 번호"), call.transcript
    assert [s.name for s in call.streams] == ["ivr-speech-1", "ivr-speech-2"]
    assert call.gather.input == "dtmf speech"
    assert not call.errors


def test_once_the_stream_is_up_prompts_take_keys_and_start_no_other_stream(server, twilio):
    call = korean_call(server)
    media = MediaStream.of(server, call)
    wait_for(lambda: stream_up(server, call, "ivr-speech-1"), what="the stream to be up")
    media.say("hours")
    twilio.follow(call)
    assert call.heard("더 도와 드릴 일이"), call.transcript  # the yes/no question
    assert [s.name for s in call.streams] == ["ivr-speech-1"]
    assert call.gather.input == "dtmf"  # our recogniser hears the caller

    media.say("yes")  # the same socket, the new prompt's grammar
    twilio.follow(call)
    assert call.heard("주문 상태, 영업 시간"), call.transcript  # back at the menu
    media.stop()
    assert not call.errors


def test_a_stream_that_drops_is_started_again_and_the_caller_is_heard_on_the_new_one(server, twilio, caplog):
    caplog.set_level(logging.INFO)
    call = korean_call(server)
    first = MediaStream.of(server, call)
    wait_for(lambda: stream_up(server, call, "ivr-speech-1"), what="the stream to be up")

    first.silence(0.5)
    first.play(audio("order_status")[:6400])  # most of an answer, then the socket dies
    first.drop()
    path = twilio.follow(call)  # the server sends the caller back to the prompt at once
    assert path.startswith("/twilio/resume")
    assert call.heard("주문 상태, 영업 시간"), call.transcript
    assert [s.name for s in call.streams] == ["ivr-speech-1", "ivr-speech-2"]
    assert call.gather.input == "dtmf speech"  # Twilio hears the caller until the new stream is up

    second = MediaStream.of(server, call)
    second.say("order_status")
    twilio.follow(call)
    assert call.heard("주문 번호"), call.transcript
    assert any("dropped without a stop mid-utterance" in r.getMessage() for r in caplog.records)
    no_private_words(caplog)
    second.stop()
    assert not call.errors


def test_a_retried_webhook_starts_the_stream_again_and_one_socket_feeds_the_call(server, twilio, caplog):
    """Twilio retries the key press (our first answer may never have been carried out):
    the retry's answer starts a new stream. If both answers were carried out, both
    streams connect; the newest socket is the one heard and the other is closed."""
    caplog.set_level(logging.INFO)
    call = korean_call(server, korean=False)
    action = call.gather.action
    call.press("9")  # answered: stream 1
    retry = call.post(action, Digits="9")  # Twilio's retry of the same request
    document = ET.fromstring(retry.body)
    started = [s.get("name") for s in document.iter("Stream")]
    assert started == ["ivr-speech-2"], retry.body
    assert document.find(".//Gather").get("input") == "dtmf speech"
    parameters = {p.get("name"): p.get("value") for p in document.iter("Parameter")}

    sid = call.params["CallSid"]
    first = MediaStream.of(server, call)  # stream 1's socket connects first ...
    wait_for(lambda: stream_up(server, call, "ivr-speech-1"), what="stream 1 to be up")
    second = MediaStream(server.port, parameters, sid)  # ... then stream 2's
    assert first.closed_by_server(), "two sockets fed the call"
    wait_for(lambda: stream_up(server, call, "ivr-speech-2"), what="stream 2 to be up")
    late = MediaStream.of(server, call)  # stream 1 again, after a newer stream is up: refused
    assert late.closed_by_server()
    assert stream_up(server, call, "ivr-speech-2")

    second.say("order_status")
    twilio.follow(call)
    assert call.heard("주문 번호"), call.transcript
    assert any("gave way to a newer socket" in r.getMessage() for r in caplog.records)
    assert any("was replaced by stream 2" in r.getMessage() for r in caplog.records)
    second.stop()


def test_sockets_the_call_does_not_want_are_closed_with_a_reason(server, twilio, caplog):
    caplog.set_level(logging.INFO)
    call = korean_call(server)
    parameters = dict(call.streams[-1].parameters)
    sid = call.params["CallSid"]

    never_started = MediaStream(server.port, {**parameters, "stream": "7"}, sid)
    assert never_started.closed_by_server()

    stops_first = MediaStream(server.port, parameters, sid, start=False)
    stops_first.send({"event": "stop", "stop": {"accountSid": "AC", "callSid": sid}})
    assert stops_first.closed_by_server()

    media = MediaStream(server.port, parameters, sid)
    wait_for(lambda: stream_up(server, call, "ivr-speech-1"), what="the stream to be up")
    media.stop()
    with contextlib.suppress(ConnectionClosed):  # the server may have closed the socket already
        media.play(audio("order_status"))  # frames after the stop are not heard
    assert media.closed_by_server()
    wait_for(lambda: not server.live(sid).streaming, what="the stream to be down")
    assert twilio.redirects(sid) == []  # a stream that stopped is not restarted mid-prompt

    call.hang_up()
    after_the_end = MediaStream(server.port, parameters, sid)
    assert after_the_end.closed_by_server()

    said = [r.getMessage() for r in caplog.records]
    assert any("no prompt of the call started a stream 7" in m for m in said), said
    assert any("stopped before it started" in m for m in said), said
    assert any("the call has ended" in m for m in said), said
    no_private_words(caplog)


def test_a_call_whose_streams_keep_dropping_is_heard_by_twilio_after_the_last(server, twilio, caplog):
    """A proxy that drops every websocket: the call starts a few streams, then stops
    trying (the caller would hear the prompt again at every drop) and Twilio hears it."""
    from ivr.web.streams import MAX_STREAMS

    caplog.set_level(logging.INFO)
    call = korean_call(server)
    for n in range(1, MAX_STREAMS + 1):
        assert call.streams[-1].name == f"ivr-speech-{n}"
        media = MediaStream.of(server, call)
        wait_for(lambda n=n: stream_up(server, call, f"ivr-speech-{n}"), what=f"stream {n} to be up")
        media.drop()
        if n < MAX_STREAMS:
            twilio.follow(call)  # the prompt again, with the next stream
    wait_for(lambda: not server.live(call.params["CallSid"]).streaming, what="the last stream to be down")
    assert len(twilio.redirects(call.params["CallSid"])) == MAX_STREAMS - 1  # no redirect after the last stream dropped
    assert any("that was the call's last" in r.getMessage() for r in caplog.records)

    call.say("주문 상태")  # Twilio's recogniser hears the caller
    assert call.heard("주문 번호"), call.transcript
    assert len(call.streams) == MAX_STREAMS and call.gather.input == "dtmf speech"
    assert not call.errors


def test_a_socket_whose_handling_fails_takes_its_stream_down_and_the_prompt_starts_another(server, twilio, caplog):
    """A bug or an outage in the socket's handler: the stream is not left marked up (the
    call would be deaf), and the caller hears the prompt again with a new stream."""
    from ivr.web.services import services

    speech = services(server.app).speech
    asked = []
    prompt_of = speech._prompt_of

    def failing(call_sid):
        asked.append(call_sid)
        if len(asked) > 1:  # the store fails after the stream started
            raise RuntimeError("the store went away")
        return prompt_of(call_sid)

    speech._prompt_of = failing
    call = korean_call(server)
    media = MediaStream.of(server, call)
    wait_for(lambda: stream_up(server, call, "ivr-speech-1"), what="the stream to be up")
    media.say("hours")
    assert media.closed_by_server()
    assert twilio.follow(call).startswith("/twilio/resume")
    assert [s.name for s in call.streams] == ["ivr-speech-1", "ivr-speech-2"]
    assert call.gather.input == "dtmf speech"
    assert any("media stream 1 failed" in r.getMessage() for r in caplog.records)
