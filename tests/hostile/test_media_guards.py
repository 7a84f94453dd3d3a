"""The media socket's guards, one rule at a time, on a real (werkzeug) server with the
real Korean model: the route exists only with a model; ``start`` within 2 s or the
socket closes; a message over 64 kB closes it; nothing sent before ``start`` is kept;
the host's socket cap refuses one more socket before it is accepted."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from raw_socket import Refused, close_code, closed_within, open_socket, send_frame_slowly, send_text

from ivr import create_app
from ivr.web.media import MAX_MESSAGE_BYTES, START_WITHIN
from ivr.web.services import services

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"TWILIO_AUTH_TOKEN": "t", "IVR_STORE": f"sqlite:///{tmp_path}/c.sqlite3", "IVR_SECRET_KEY": "k",
            "IVR_FLOWS_DIR": str(ROOT / "call_flows"), "IVR_AUDIO_DIR": str(ROOT / "audio"),
            "IVR_VAR_DIR": str(tmp_path / "var"), **extra}


@pytest.fixture()
def served(tmp_path):
    servers = []

    def serve(**extra: str):
        app = create_app(_config(tmp_path, **extra))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return app, server.server_port

    yield serve
    for server in servers:
        server.shutdown()


def test_without_a_model_there_is_no_media_route(tmp_path):
    app = create_app(_config(tmp_path, IVR_STREAM_SPEECH="false"))
    assert not services(app).speech.models
    reply = app.test_client().get("/twilio/media", headers={"Upgrade": "websocket", "Connection": "Upgrade"})
    assert reply.status_code == 404


def test_a_socket_that_sends_no_start_is_closed_within_two_seconds(served):
    _app, port = served()
    sock = open_socket(port)
    send_text(sock, json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    for i in range(40):  # media before start: dropped unread, never kept for later
        send_text(sock, json.dumps({"event": "media", "media": {"track": "inbound", "chunk": str(i + 1),
                                                                "payload": "//////////8="}}))
    took = closed_within(sock, START_WITHIN + 3)
    sock.close()
    assert took is not None and took <= START_WITHIN + 1.0, took


def test_a_message_over_the_cap_closes_the_socket_before_it_is_all_sent(served):
    _app, port = served()
    sock = open_socket(port)
    sock.settimeout(3)
    began = time.monotonic()
    send_frame_slowly(sock, 4 * MAX_MESSAGE_BYTES, chunk=16 * 1024)  # one frame, four times the cap
    code = close_code(sock, 3)
    sock.close()
    assert code == 1009 and time.monotonic() - began < 1.5  # "message too big", before any start timeout


def test_a_start_with_a_wrong_secret_is_closed(served):
    _app, port = served()
    sock = open_socket(port)
    send_text(sock, json.dumps({"event": "start", "start": {"callSid": "CA1", "customParameters":
                                                            {"call": "CA1", "secret": "guess"}}}))
    assert closed_within(sock, 2) is not None
    sock.close()


def test_the_host_cap_refuses_one_more_socket_before_it_is_accepted(served, caplog):
    _app, port = served(IVR_MEDIA_SOCKETS="1")
    first = open_socket(port)
    with pytest.raises(Refused) as refused:
        open_socket(port)
    assert refused.value.status == 503
    first.close()
    assert "refused a media stream" in caplog.text and "IVR_MEDIA_SOCKETS" in caplog.text
    deadline = time.monotonic() + START_WITHIN + 2
    while True:  # the slot comes back when the first socket is closed
        try:
            open_socket(port).close()
            break
        except Refused:
            assert time.monotonic() < deadline
            time.sleep(0.1)
