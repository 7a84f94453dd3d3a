"""Every Twilio webhook checks X-Twilio-Signature against the public URL Twilio called:
forged, missing, stale or mis-addressed requests get 403 and change nothing."""
from __future__ import annotations

import threading

import pytest
from web_support import AUTH_TOKEN, PUBLIC_URL, Clock, Line, check_reply, gather_node, make_app
from werkzeug.serving import make_server

from ivr.testing import Caller, HttpTransport
from ivr.web.services import services

ENDPOINTS = ["/twilio/voice", "/twilio/step?seq=1", "/twilio/dial?attempt=1", "/twilio/status",
             "/twilio/whisper?attempt=1", "/twilio/whisper/answer?attempt=1", "/twilio/queue-wait",
             "/twilio/recording?seq=1", "/twilio/recording-status"]
FORGERIES = {
    "forged": {"signature": "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA=="},
    "missing": {"signature": ""},
    "stale token": {"sign_token": "an-old-auth-token-rotated-away"},
    "wrong scheme": {"sign_url": "http://ivr.example.com{path}"},
    "wrong host": {"sign_url": "https://evil.example.com{path}"},
    "wrong path": {"sign_url": "https://ivr.example.com/twilio/other"},
}


def test_valid_signature_is_accepted(line):
    call = line.call()
    assert call.responses[0].status == 200 and gather_node(call) == "main"
    assert line.store.load(call.call_sid) is not None


@pytest.mark.parametrize("kind", FORGERIES)
def test_forged_incoming_call_is_refused_and_nothing_stored(tmp_path, kind):
    clock = Clock()
    line = Line(make_app(tmp_path, clock), clock)
    forgery = {k: v.format(path="/twilio/voice") for k, v in FORGERIES[kind].items()}
    call = line.caller(**forgery)
    call.dial()
    assert call.responses[0].status == 403
    assert call.state == "ended" and call.errors[0].code == 11200
    assert line.store.load(call.call_sid) is None
    assert line.store.events(call.call_sid) == []
    assert line.store.list_calls(active=None) == []


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("kind", FORGERIES)
def test_forged_request_to_a_live_call_changes_nothing(line, endpoint, kind):
    call = line.call()
    call.press("1")                                      # at 'order', seq 2
    before = line.store.load(call.call_sid)
    events = line.store.events(call.call_sid)
    path = endpoint.replace("seq=1", "seq=2").replace("?attempt", f"?call={call.call_sid}&attempt")
    forgery = {k: v.format(path=path) for k, v in FORGERIES[kind].items()}
    reply = call.post(path, Digits="0", CallStatus="completed", DialCallStatus="completed",
                      RecordingUrl="https://evil.example.com/r", **forgery)
    assert reply.status == 403, (path, kind, reply.status)
    after = line.store.load(call.call_sid)
    assert (after.version, after.data) == (before.version, before.data)
    assert line.store.events(call.call_sid) == events
    call.responses.pop()                                 # the 403 is the point, not an error
    call.press("123456")                                 # the real call goes on untouched
    assert call.heard("has shipped")


def test_port_is_tolerated_for_https(line):
    """Twilio strips :443 before signing https URLs; a request signed with it still passes."""
    call = line.caller(sign_url="https://ivr.example.com:443/twilio/voice")
    call.dial()
    assert call.responses[0].status == 200


def test_unset_auth_token_refuses_everything(tmp_path):
    clock = Clock()
    line = Line(make_app(tmp_path, clock, TWILIO_AUTH_TOKEN=""), clock)
    call = line.caller()
    call.dial()
    assert call.responses[0].status == 403
    assert line.store.list_calls(active=None) == []


class Server:
    """The app on 127.0.0.1 (an OS-chosen port), like behind a TLS-terminating proxy."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01},
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def served(tmp_path):
    servers = []

    def serve(**config):
        clock = Clock()
        app = make_app(tmp_path / str(len(servers)), clock, **config)
        server = Server(app)
        servers.append((server, app))
        return server, app

    yield serve
    for server, _ in servers:
        server.stop()


def test_behind_a_proxy_the_public_url_is_what_counts(served):
    """Reached at http://127.0.0.1:PORT, signed by Twilio for https://public.example.com."""
    server, app = served()  # IVR_PUBLIC_URL=https://ivr.example.com (the emulator's public URL)
    transport = HttpTransport(server.url)
    call = Caller(transport, auth_token=AUTH_TOKEN, public_url=PUBLIC_URL)
    call.dial()
    assert call.responses[0].status == 200 and call.state == "listening"
    assert call.gather.action.startswith(f"{PUBLIC_URL}/twilio/step?")   # absolute, public
    call.press("3")
    assert call.heard("Our stores are")
    for reply in call.responses:
        check_reply(reply)

    other = Caller(transport, auth_token=AUTH_TOKEN, public_url="https://public.example.com")
    other.dial()                                         # signed for a URL this app is not
    assert other.responses[0].status == 403
    assert services(app).store.load(other.call_sid) is None
    transport.close()


def test_behind_a_proxy_without_public_url_refuses(served):
    """Without IVR_PUBLIC_URL the app sees http://127.0.0.1:PORT and cannot validate a
    request Twilio signed for its https public URL (no ProxyFix is installed)."""
    server, app = served(IVR_PUBLIC_URL="")
    transport = HttpTransport(server.url)
    call = Caller(transport, auth_token=AUTH_TOKEN, public_url="https://public.example.com")
    call.dial()
    assert call.responses[0].status == 403
    assert services(app).store.list_calls(active=None) == []
    transport.close()


def test_public_url_with_query_string_is_signed_whole(line):
    """The query string is part of what Twilio signs: tampering with it is refused."""
    call = line.call()
    action = call.gather.action
    tampered = action.replace("seq=1", "seq=7")
    reply = call.post(tampered, Digits="1", sign_url=action)
    assert reply.status == 403
    call.responses.pop()
    call.press("1")
    assert gather_node(call) == "order"
