"""Hostile input: over 10,000 generated requests against every endpoint of the app (every
rule of its URL map), signed and forged, oversized, malformed, replayed, from many source
addresses. Nothing may answer 5xx; every 2xx TwiML answer must parse; a call that was
live before the barrage must be untouched by it and continue normally afterwards; an
ended call must stay exactly as it ended.

In-process (Flask's test client) for speed; a real SQLite store; the demo flows and the
scale line, so transfers, whispers, recordings and lookups are all reachable.
"""
from __future__ import annotations

import logging
import shutil
import string
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scale_line import flow_text
from scale_support import ADMIN_TOKEN, AUTH_TOKEN, NUMBER, PUBLIC_URL, ROOT, Recording

from ivr.testing import Caller, FlaskTransport, compute_signature
from ivr.web.app import create_app
from ivr.web.services import services

BATCH = 25
EXAMPLES = 410  # 25 x 410 = 10,250 requests
MAX_BODY = 16 * 1024
FUZZ_SIDS = ["CA" + c * 32 for c in "0123456"]
FIELDS = ["CallSid", "AccountSid", "From", "To", "Caller", "Called", "CallStatus", "Direction", "Digits",
          "SpeechResult", "Confidence", "UnstableSpeechResult", "DialCallStatus", "DialCallSid", "QueueResult",
          "QueuePosition", "RecordingUrl", "RecordingDuration", "RecordingStatus", "ParentCallSid",
          "FinishedOnKey", "LoudnessDbfs", "SpeechDuration", "ErrorCode", "name", "password"]
STATUSES = ["queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled", "answered",
            "bridged", "hangup", "queue-full", "", "\x00", "completed" * 50]
SOURCES = [f"198.51.100.{i}" for i in range(40)] + ["::1", "2001:db8::7", ""]


def fill(rule: str, draw) -> str:
    """A concrete path for a URL rule (its <converters> filled with hostile values)."""
    value = draw(st.sampled_from(["welcome.wav", "hold.wav", "../../etc/passwd", "x.mp3", "a%00b.wav",
                                  "..%2f..%2fpyproject.toml", FUZZ_SIDS[0], "é.ulaw", "a" * 300 + ".wav"]))
    out = []
    for part in rule.split("/"):
        out.append(value if part.startswith("<") else part)
    return "/".join(out)


def text():
    return st.one_of(st.text(max_size=40), st.text(alphabet=string.digits + "*#", max_size=24),
                     st.sampled_from(STATUSES), st.sampled_from(FUZZ_SIDS))


@st.composite
def hostile_request(draw, rules, replays):
    if replays and draw(st.integers(0, 9)) == 0:
        return ("replay", draw(st.sampled_from(replays)))
    rule, methods = draw(st.sampled_from(rules))
    path = fill(rule, draw)
    method = draw(st.sampled_from(sorted(methods) * 6 + ["GET", "PUT", "DELETE", "PATCH"]))
    query = draw(st.dictionaries(st.sampled_from(["seq", "node", "attempt", "call", "empty", "x"]),
                                 st.one_of(st.integers(-2, 12).map(str), text()), max_size=3))
    body = draw(st.sampled_from(["form", "form", "form", "oversized", "bytes", "json", "none", "many"]))
    form = {}
    if body == "form":
        form = draw(st.dictionaries(st.sampled_from(FIELDS), text(), max_size=8))
        if draw(st.booleans()):
            form["CallSid"] = draw(st.sampled_from(FUZZ_SIDS))
    signature = draw(st.sampled_from(["valid", "valid", "forged", "missing", "wrong-url"]))
    auth = draw(st.sampled_from(["", "", "Bearer " + ADMIN_TOKEN, "Bearer nope", "Basic eDp5", "Bearer"]))
    source = draw(st.sampled_from(SOURCES))
    raw = draw(st.binary(max_size=200)) if body == "bytes" else b""
    return ("new", dict(path=path, method=method, query=query, body=body, form=form, signature=signature,
                        auth=auth, source=source, raw=raw))


def send(client, spec, live_sid: str):
    """Deliver one generated request; returns the response."""
    from urllib.parse import urlencode

    qs = urlencode(spec["query"])
    url_path = spec["path"] + (f"?{qs}" if qs else "")
    headers = {}
    form = dict(spec["form"])
    if form.get("CallSid") == live_sid and spec["signature"] == "valid":
        form["CallSid"] = FUZZ_SIDS[1]  # a valid request for the live call would be Twilio itself
    data = None
    content_type = None
    if spec["body"] == "form":
        data = form
    elif spec["body"] == "oversized":
        data = {"CallSid": FUZZ_SIDS[2], "SpeechResult": "x" * (MAX_BODY + 100)}
    elif spec["body"] == "bytes":
        data, content_type = spec["raw"], "application/x-www-form-urlencoded"
    elif spec["body"] == "json":
        data, content_type = b'{"CallSid": "' + FUZZ_SIDS[3].encode() + b'", "Digits": [1, {"a": null}]}', \
            "application/json"
    elif spec["body"] == "many":
        data = {f"f{i}": str(i) for i in range(300)}
    if spec["signature"] != "missing":
        signed = form if spec["body"] == "form" and spec["method"] == "POST" else {}
        if spec["signature"] == "valid":
            headers["X-Twilio-Signature"] = compute_signature(AUTH_TOKEN, PUBLIC_URL + url_path, signed)
        elif spec["signature"] == "wrong-url":
            headers["X-Twilio-Signature"] = compute_signature(AUTH_TOKEN, "https://evil.example" + url_path, signed)
        else:
            headers["X-Twilio-Signature"] = "Zm9yZ2Vk" + spec["path"][-3:]
    if spec["auth"]:
        headers["Authorization"] = spec["auth"]
    kwargs = dict(method=spec["method"], headers=headers, base_url=PUBLIC_URL,
                  environ_base={"REMOTE_ADDR": spec["source"]})
    if data is not None and spec["method"] != "GET":
        kwargs["data"] = data
        if content_type:
            kwargs["content_type"] = content_type
    return client.open(url_path, **kwargs)


def check(response, what) -> None:
    assert response.status_code < 500, (what, response.status_code, response.get_data()[:500])
    if 200 <= response.status_code < 300 and response.mimetype in ("text/xml", "application/xml"):
        body = response.get_data()
        if body:
            assert len(body) < 64 * 1024, what
            assert ET.fromstring(body).tag == "Response", (what, body[:300])


@pytest.fixture
def line(tmp_path):
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "scale.yaml").write_text(flow_text("version one").replace('numbers: ["+15005550006"]',
                                                                       'numbers: ["+15005550099"]')
                                      .replace("default: true", "default: false"))
    for demo in (ROOT / "call_flows").glob("*.yaml"):
        shutil.copy(demo, flows / demo.name)
    audio = ROOT / "audio"
    app = create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_PUBLIC_URL": PUBLIC_URL, "IVR_ADMIN_TOKEN": ADMIN_TOKEN,
                      "IVR_FLOWS_DIR": str(flows), "IVR_AUDIO_DIR": str(audio if audio.is_dir() else tmp_path),
                      "IVR_VAR_DIR": str(tmp_path / "var"), "IVR_STORE": f"sqlite:///{tmp_path}/calls.db", "IVR_STREAM_SPEECH": "false",
                      "IVR_SECRET_KEY": "k", "IVR_MAX_BODY_BYTES": str(MAX_BODY),
                      "IVR_FAILED_SIGNATURE_BLOCK": "5"})
    return app


def test_ten_thousand_hostile_requests_hurt_nobody(line):
    app = line
    store = services(app).store
    client = app.test_client()

    # an ended call, and a live call (at the PIN prompt of the scale line), both recorded
    ended = Recording(FlaskTransport(app))
    done = Caller(ended, auth_token=AUTH_TOKEN, public_url=PUBLIC_URL, to="+15005550099")
    done.dial()
    done.press("1")
    done.press("12345678")
    done.press("4321")
    done.press("2")
    done.hang_up()
    live_rec = Recording(FlaskTransport(app))
    live = Caller(live_rec, auth_token=AUTH_TOKEN, public_url=PUBLIC_URL, to="+15005550099")
    live.dial()
    live.press("1")
    live.press("12345678")
    assert live.heard("four digit PIN")
    ended_before, live_before = store.load(done.call_sid), store.load(live.call_sid)
    replays = [("ended", r) for r in ended.requests] + [("live", r) for r in live_rec.requests]
    rules = sorted((r.rule, frozenset(r.methods - {"HEAD", "OPTIONS"})) for r in app.url_map.iter_rules())
    assert any(rule == "/admin/reload" for rule, _ in rules) and any(rule.startswith("/audio/") for rule, _ in rules)
    sent = {"n": 0, "statuses": {}}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(hostile_request(rules, replays), min_size=BATCH, max_size=BATCH))
    def barrage(batch):
        for kind, spec in batch:
            if kind == "replay":
                _, (method, url, form, headers) = spec
                reply = FlaskTransport(app).request(method, url, form, headers)
                assert reply.status < 500, (url, reply.body)
                status, what = reply.status, url
                if reply.status == 200 and reply.mimetype == "text/xml":
                    assert ET.fromstring(reply.body).tag == "Response"
            else:
                response = send(client, spec, live.call_sid)
                check(response, spec)
                status, what = response.status_code, spec["path"]
            sent["n"] += 1
            sent["statuses"][status] = sent["statuses"].get(status, 0) + 1

    quiet = logging.getLogger("ivr")
    level, quiet.level = quiet.level, logging.ERROR  # 10,000 "refused" warnings would cost seconds
    try:
        barrage()
    finally:
        quiet.setLevel(level)
    assert sent["n"] >= 10_000, sent
    statuses = sent["statuses"]
    print("statuses:", sorted(statuses.items()))
    assert statuses.get(200, 0) > 500 and statuses.get(403, 0) > 300 and statuses.get(413, 0) > 100, statuses

    # nothing the barrage did touched the live call or the ended one
    assert store.load(live.call_sid) == live_before
    assert store.load(done.call_sid) == ended_before
    live.press("4321")
    assert live.heard("Account 12345678, your balance is 42.50 dollars, version one")
    live.press("2")
    assert live.heard("Goodbye from the scale line")
    live.hang_up()
    assert not live.all_errors
    assert Path(services(app).settings.flows_dir / "scale.yaml").is_file()
