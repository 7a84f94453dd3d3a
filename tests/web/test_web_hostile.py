"""Hostile and malformed requests, validly signed, against every Twilio webhook: never a
5xx, every 200 is TwiML, and a live call is not corrupted by them."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_support import AUTH_TOKEN, PUBLIC_URL, Clock, Line, check_reply, gather_node, make_app

from ivr.testing.signing import compute_signature

ENDPOINTS = ["/twilio/voice", "/twilio/step", "/twilio/dial", "/twilio/status", "/twilio/whisper",
             "/twilio/whisper/answer", "/twilio/queue-wait", "/twilio/recording", "/twilio/recording-status"]
KNOWN_KEYS = ["CallSid", "Digits", "SpeechResult", "Confidence", "CallStatus", "DialCallStatus", "QueueResult",
              "RecordingUrl", "RecordingDuration", "From", "To", "CallerName", "LoudnessDbfs", "SpeechDuration",
              "QueuePosition", "RecordingStatus", "FinishedOnKey", "ParentCallSid"]
QUERY_KEYS = ["seq", "node", "attempt", "call", "silence", "empty"]

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "0", "1", "-1", "1e309", "nan", "inf", "completed", "busy", "answered", "hangup",
                     "bridged", "#", "*", "0000#", "agent", "close my account", " ", "\x00", "CA" + "f" * 32]),
    st.text(min_size=3000, max_size=6000),
    st.integers().map(str),
)
forms = st.dictionaries(st.one_of(st.sampled_from(KNOWN_KEYS), st.text(min_size=1, max_size=12)), texts,
                        max_size=8)
queries = st.dictionaries(st.sampled_from(QUERY_KEYS), st.one_of(texts, st.integers(0, 5).map(str)), max_size=3)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    clock = Clock()
    line = Line(make_app(tmp_path_factory.mktemp("hostile"), clock), clock)
    live = line.call()
    live.press("1")                                    # waiting at 'order'
    return line, live


def signed_post(line: Line, path: str, query: dict, body: bytes, content_type: str, sign_params: dict):
    url_path = path + (f"?{urlencode(query)}" if query else "")
    signature = compute_signature(AUTH_TOKEN, PUBLIC_URL + url_path, sign_params)
    return line.app.test_client().post(url_path, base_url=PUBLIC_URL, data=body,
                                       headers={"X-Twilio-Signature": signature, "Content-Type": content_type})


def check(response, path):
    assert response.status_code < 500, (path, response.status_code, response.get_data()[:500])
    if response.status_code == 200:
        from ivr.testing.transport import Reply

        check_reply(Reply(path, 200, response.headers.get("Content-Type", ""),
                          response.get_data().decode("utf-8")))


def assert_live_call_untouched(line: Line, live, before):
    after = line.store.load(live.call_sid)
    assert (after.version, after.data) == (before.version, before.data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(path=st.sampled_from(ENDPOINTS), query=queries, form=forms)
def test_random_forms_never_break_the_line(hostile, path, query, form):
    line, live = hostile
    form = {k: v for k, v in form.items() if not (k == "CallSid" and v == live.call_sid)}
    before = line.store.load(live.call_sid)
    body = urlencode(form).encode()
    # what the app will read back (werkzeug decodes the body the same way)
    response = signed_post(line, path, query, body, "application/x-www-form-urlencoded",
                           dict(parse_qsl(body.decode(), keep_blank_values=True)))
    check(response, path)
    if query.get("call") != live.call_sid:
        assert_live_call_untouched(line, live, before)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(path=st.sampled_from(ENDPOINTS), query=queries, raw=st.binary(max_size=300),
       content_type=st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain",
                                     "multipart/form-data; boundary=xyz", "application/xml", ""]))
def test_raw_bytes_and_wrong_content_types(hostile, path, query, raw, content_type):
    """Non-UTF-8 bytes, broken percent-escapes, JSON or text bodies: signed over what the
    app can read of them (nothing, for a body that is not a form)."""
    line, live = hostile
    before = line.store.load(live.call_sid)
    if content_type == "application/x-www-form-urlencoded":
        readable = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        readable = {k: v for k, v in readable.items()}
    else:
        readable = {}
    response = signed_post(line, path, query, raw, content_type, readable)
    assert response.status_code < 500, (path, response.status_code)
    if response.status_code == 200:
        check(response, path)
    if readable.get("CallSid") != live.call_sid and query.get("call") != live.call_sid:
        assert_live_call_untouched(line, live, before)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_oversized_body_is_413(hostile, path):
    line, live = hostile
    before = line.store.load(live.call_sid)
    body = urlencode({"CallSid": live.call_sid, "Digits": "1", "Junk": "x" * 200_000}).encode()
    response = signed_post(line, path, {}, body, "application/x-www-form-urlencoded", {})
    assert response.status_code == 413
    assert_live_call_untouched(line, live, before)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_missing_call_sid_gets_twiml_not_an_error(hostile, path):
    line, _ = hostile
    response = signed_post(line, path, {"seq": "1", "attempt": "1"}, b"Digits=1&CallStatus=completed",
                           "application/x-www-form-urlencoded", {"Digits": "1", "CallStatus": "completed"})
    check(response, path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(path=st.sampled_from(ENDPOINTS), query=queries, form=forms)
def test_hostile_values_for_the_live_call_keep_it_loadable(tmp_path_factory, path, query, form):
    """The live call's own CallSid with garbage values: its state may move (it is a valid
    request) but always stays a call the line can continue and hand to a person."""
    clock = Clock()
    line = Line(make_app(tmp_path_factory.mktemp("live"), clock), clock)
    live = line.call()
    form = {**form, "CallSid": live.call_sid}
    if "call" in query:
        query = {**query, "call": live.call_sid}
    body = urlencode(form).encode()
    response = signed_post(line, path, query, body, "application/x-www-form-urlencoded",
                           dict(parse_qsl(body.decode(), keep_blank_values=True)))
    check(response, path)
    stored = line.store.load(live.call_sid)
    assert stored is not None and stored.data["session"]["call_sid"] == live.call_sid
    if stored.data["session"]["phase"] in ("listening", "confirming"):
        reply = live.post("/twilio/step", Digits="0")   # no seq: applied to wherever it is
        assert "<Dial" in reply.body or "<Enqueue" in reply.body, reply.body


def test_after_the_barrage_the_live_call_continues(hostile):
    line, live = hostile
    assert gather_node(live) == "order"
    live.press("123456")
    assert live.heard("has shipped")
    live.press("0")
    assert live.state == "dialing"
    line.check()
