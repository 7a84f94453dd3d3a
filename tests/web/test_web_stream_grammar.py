"""The grammar follows the call by push: whole calls over real websockets with the real
Korean Vosk model.

The webhook that moves a call to a new prompt publishes it on the call's bus channel;
the call's socket switches its recogniser and decodes again the audio that came since
the prompt was decided, so an answer begun before the push arrived is heard whole. On
Redis the push crosses hosts: the socket may live on another host than the webhooks.
"""
from __future__ import annotations

import logging
import threading
import uuid

import pytest
import responses
from stream_support import REDIS_URL, MediaStream, Server, Twilio, audio, korean_call, redis_or_skip, wait_for


@pytest.fixture
def server(tmp_path):
    server = Server(f"sqlite:///{tmp_path}/calls.sqlite3", var_dir=tmp_path)
    yield server
    server.close()


def up(server, call) -> bool:
    live = server.live(call.params["CallSid"])
    return live is not None and live.streaming


def late_pushes(server, seconds: float) -> list[dict]:
    """Delay every grammar push by ``seconds`` (a slow bus between two hosts)."""
    bus = server.store.bus
    publish = bus.publish
    pushed: list[dict] = []

    def slow(channel: str, message: dict) -> None:
        if channel.startswith("ivr.media.") and message.get("event") == "prompt":
            pushed.append(message)
            threading.Timer(seconds, publish, (channel, message)).start()
        else:
            publish(channel, message)

    bus.publish = slow
    return pushed


def test_an_answer_begun_before_a_late_grammar_push_is_heard_whole(server):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        twilio = Twilio(rsps, server)
        call = korean_call(server)
        media = MediaStream.of(server, call)
        wait_for(lambda: up(server, call), what="the stream to be up")
        media.say("hours")
        pushed = late_pushes(server, 0.5)
        twilio.follow(call)
        assert call.heard("더 도와 드릴 일이"), call.transcript  # the yes/no question
        assert len(pushed) == 1
        # the caller answers at once, while the new prompt's grammar is still on its way
        media.silence(0.1, realtime=True)
        media.play(audio("no"), realtime=True)
        media.silence(1.0, realtime=True)
        twilio.follow(call)
        live = server.live(call.params["CallSid"])
        assert live.session.slots.get("more") == "no", (live.session.slots, call.transcript)
        media.stop()


def test_a_socket_on_one_host_follows_prompts_decided_on_another(tmp_path, caplog):
    """Redis: the webhooks land on host A, the media socket on host B."""
    url = redis_or_skip(f"{REDIS_URL}?prefix=stream-{uuid.uuid4().hex}")
    caplog.set_level(logging.DEBUG, logger="ivr.web.media")
    a = Server(url, var_dir=tmp_path / "a")
    b = Server(url, var_dir=tmp_path / "b").behind(a)
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            twilio = Twilio(rsps, a, b)
            call = korean_call(a)
            media = MediaStream(b.port, dict(call.streams[-1].parameters), call.params["CallSid"])
            wait_for(lambda: up(a, call), what="the stream to be up")
            media.say("hours")
            twilio.follow(call)  # B heard it and redirected; A applies it and pushes the new prompt
            assert call.heard("더 도와 드릴 일이"), call.transcript
            sid = call.params["CallSid"]
            def pushed() -> bool:
                media.silence(0.1)  # the line keeps streaming, as Twilio's does
                return any(f"call {sid}: listening for prompt" in r.getMessage() for r in caplog.records)

            wait_for(pushed, what="host B to hear the push")
            media.say("yes")
            twilio.follow(call)
            assert call.heard("주문 상태, 영업 시간"), call.transcript  # "yes": back at the menu
            media.stop()
            wait_for(lambda: not a.live(sid).streaming, what="the stream to be down")
    finally:
        a.close()
        b.close()
