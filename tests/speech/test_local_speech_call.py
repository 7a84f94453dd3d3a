"""Whole calls with local speech: the app runs as a real server, Twilio is the caller
emulator (webhooks) plus a real websocket client streaming Korean audio as Media Stream
frames, and Twilio's REST API is mocked with ``responses`` (the live-call redirect).

A caller dials the English demo line, presses 9 for Korean, and from then on speaks:
the server's own Vosk recogniser hears them and redirects the call to apply it.
"""
from __future__ import annotations

import base64
import json
import re
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import responses
from werkzeug.serving import make_server

from ivr import create_app
from ivr.testing import Caller, FlaskTransport
from ivr.web.services import services

ROOT = Path(__file__).resolve().parents[2]
UTTERANCES = ROOT / "audio" / "test_utterances"
TOKEN = "test-token"
ACCOUNT = "AC" + "1" * 32
FRAME = 160


@pytest.fixture()
def line(tmp_path):
    app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": ACCOUNT, "IVR_VAR_DIR": str(tmp_path / "var"), "IVR_STORE": f"sqlite:///{tmp_path}/c.sqlite3",
                      "IVR_FLOWS_DIR": str(ROOT / "call_flows"), "IVR_AUDIO_DIR": str(ROOT / "audio"),
                      "IVR_PUBLIC_URL": "http://127.0.0.1:1"})  # fixed below, once the port is known
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.server_port
    settings = services(app).settings
    object.__setattr__(settings, "public_url", f"http://127.0.0.1:{port}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, port
    server.shutdown()
    from ivr.web.forking import before_fork

    services(app).background.wait_idle(10)
    before_fork(app)  # the app's own threads (flow reload, hold sweep) stop, as before a fork


def _redirects(rsps):
    return [c for c in rsps.calls if "/Calls/" in c.request.url and c.request.method == "POST"]


def _stream(port: int, start_params: dict, audio: bytes, call_sid: str, after=None):
    """Stream ``audio`` (raw mu-law) as Twilio would; returns when ``after()`` holds or 20 s pass."""
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{port}/twilio/media", open_timeout=5) as ws:
        ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        ws.send(json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": "MZ1",
                            "start": {"streamSid": "MZ1", "accountSid": ACCOUNT, "callSid": call_sid,
                                      "tracks": ["inbound"], "customParameters": start_params,
                                      "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}))
        padded = b"\xff" * 8000 + audio + b"\xff" * 16000  # a second of silence on each side
        for i, chunk in enumerate(range(0, len(padded), FRAME), 1):
            payload = base64.b64encode(padded[chunk:chunk + FRAME]).decode()
            ws.send(json.dumps({"event": "media", "sequenceNumber": str(i + 1), "streamSid": "MZ1",
                                "media": {"track": "inbound", "chunk": str(i), "timestamp": str(i * 20),
                                          "payload": payload}}))
        deadline = time.time() + 20
        while after is not None and not after() and time.time() < deadline:
            time.sleep(0.05)
        ws.send(json.dumps({"event": "stop", "sequenceNumber": "999", "streamSid": "MZ1",
                            "stop": {"accountSid": ACCOUNT, "callSid": call_sid}}))


def _korean_call(app):
    call = Caller(FlaskTransport(app), auth_token=TOKEN, public_url=services(app).settings.public_url)
    call.dial()
    call.press("9")
    return call


def _apply_redirect(call, rsps, count: int):
    update = _redirects(rsps)[count - 1]
    url = parse_qs(update.request.body)["Url"][0]
    call.update(url)
    return url



def test_korean_caller_is_heard_by_our_recogniser_and_the_call_moves_on(line):
    app, port = line
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(f"http://127.0.0.1:{port}")
        rsps.add(responses.POST, re.compile(r"https://api\.twilio\.com/2010-04-01/Accounts/AC1+/Calls/CA\w+\.json"),
                 json={"sid": "CA0", "status": "in-progress"}, status=200)
        call = _korean_call(app)
        assert call.heard("주문 상태"), call.transcript
        stream = call.streams[-1]
        assert stream.url == f"ws://127.0.0.1:{port}/twilio/media"
        # until the stream is up, Twilio's recogniser hears the caller too
        assert call.gather.input == "dtmf speech"
        params = dict(stream.parameters)
        sid = call.params["CallSid"]

        _stream(port, params, (UTTERANCES / "order_status.ulaw").read_bytes(), sid, after=lambda: _redirects(rsps))
        assert len(_redirects(rsps)) == 1, "the server did not redirect the call after the caller spoke"
        url = _apply_redirect(call, rsps, 1)
        assert "/twilio/step" in url and "speech=1" in url
        assert call.heard("주문 번호"), call.transcript

        call.press("1234")  # keys still come through the Gather
        assert call.heard("배송 중입니다"), call.transcript
        params = dict(call.streams[-1].parameters)  # the first stream stopped: a prompt started another

        # the grammar follows the call: at the yes/no question, "예" (yes) is heard
        _stream(port, params, (UTTERANCES / "yes.ulaw").read_bytes(), sid, after=lambda: len(_redirects(rsps)) >= 2)
        _apply_redirect(call, rsps, 2)
        assert call.heard("주문 상태, 영업 시간"), call.transcript  # back at the main menu
        assert not call.errors


def test_operator_phrase_mid_prompt_reaches_a_person(line):
    app, port = line
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(f"http://127.0.0.1:{port}")
        rsps.add(responses.POST, re.compile(r"https://api\.twilio\.com/.*/Calls/CA\w+\.json"), json={}, status=200)
        rsps.add(responses.POST, re.compile(r"https://api\.twilio\.com/.*/Calls\.json"),
                 json={"sid": "CAagent", "status": "queued"}, status=201)  # the agent leg
        call = _korean_call(app)
        params = dict(call.streams[-1].parameters)
        _stream(port, params, (UTTERANCES / "long_then_agent.ulaw").read_bytes(), call.params["CallSid"],
                after=lambda: _redirects(rsps))
        _apply_redirect(call, rsps, 1)
        assert call.state == "dialing" and call.dial.conference, call.transcript  # on hold for an agent
        assert call.heard("상담원에게 연결")
        assert services(app).background.wait_idle(20)  # the agent leg is made off the webhook's thread


def test_a_failed_redirect_loses_nothing_the_prompt_timeout_applies_the_speech(line):
    app, port = line
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(f"http://127.0.0.1:{port}")
        rsps.add(responses.POST, re.compile(r"https://api\.twilio\.com/.*/Calls/CA\w+\.json"),
                 json={"code": 20429, "message": "Too many requests", "status": 429}, status=429)
        services(app).speech.rest.sleep = lambda s: None
        call = _korean_call(app)
        params = dict(call.streams[-1].parameters)
        _stream(port, params, (UTTERANCES / "order_status.ulaw").read_bytes(), call.params["CallSid"],
                after=lambda: len(_redirects(rsps)) >= 3)
        assert len(_redirects(rsps)) == 3  # retried with backoff, then given up
        call.silence()  # the Gather times out; its action finds the speech already heard
        assert call.heard("주문 번호"), call.transcript


def test_a_socket_without_the_calls_secret_is_refused(line):
    app, port = line
    from websockets.sync.client import connect

    call = _korean_call(app)
    sid = call.params["CallSid"]
    with connect(f"ws://127.0.0.1:{port}/twilio/media", open_timeout=5) as ws:
        ws.send(json.dumps({"event": "start", "start": {"callSid": sid, "customParameters": {"call": sid, "secret": "guess"}}}))
        with pytest.raises(Exception):
            for _ in range(50):
                ws.recv(timeout=2)

