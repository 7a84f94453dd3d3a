"""Defences: failed-signature rate limiting (per process and shared through Redis), harmless
replays of an ended call, PII masking in the logs, secrets from files and never shown."""
from __future__ import annotations

import io
import logging
import time
import xml.etree.ElementTree as ET

import pytest
from scale_support import ADMIN_TOKEN, AUTH_TOKEN, NUMBER, PUBLIC_URL, Recording

from ivr.logs import PiiFilter, luhn_ok
from ivr.settings import SettingsError, load_settings
from ivr.testing import Caller, FlaskTransport, sign_request
from ivr.web.app import create_app
from ivr.web.services import services


def make_app(tmp_path, flows_dir, store: str | None = None, **extra):
    return create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_PUBLIC_URL": PUBLIC_URL, "IVR_ADMIN_TOKEN": ADMIN_TOKEN,
                       "IVR_FLOWS_DIR": str(flows_dir), "IVR_AUDIO_DIR": str(tmp_path),
                       "IVR_VAR_DIR": str(tmp_path / "var"), "IVR_STORE": store or f"sqlite:///{tmp_path}/calls.db", "IVR_STREAM_SPEECH": "false",
                       "IVR_SECRET_KEY": "scale-secret-key", **extra})


def forged(client, source: str, path: str = "/twilio/step"):
    return client.post(path, data={"CallSid": "CAforged", "Digits": "1"},
                       headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
                       environ_base={"REMOTE_ADDR": source})


def signed(client, source: str, path: str = "/twilio/status", **form):
    form = {"CallSid": "CAvalid0000", "CallStatus": "ringing", **form}
    request = sign_request("POST", PUBLIC_URL + path, form, AUTH_TOKEN)
    return client.post(path, data=form, headers=request.headers, environ_base={"REMOTE_ADDR": source},
                       base_url=PUBLIC_URL)


# ----------------------------------------------------------------- failed signatures

@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_a_source_failing_signatures_gets_429_but_valid_requests_pass(tmp_path, flows_dir, backend, request):
    store = request.getfixturevalue("redis_store_url") if backend == "redis" else None
    app = make_app(tmp_path, flows_dir, store, IVR_FAILED_SIGNATURE_LIMIT="20", IVR_FAILED_SIGNATURE_WINDOW="60",
                   IVR_FAILED_SIGNATURE_BLOCK="2")
    client = app.test_client()
    assert [forged(client, "203.0.113.7").status_code for _ in range(19)] == [403] * 19
    blocked = forged(client, "203.0.113.7")
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    assert forged(client, "203.0.113.7").status_code == 429
    assert signed(client, "203.0.113.7").status_code == 204  # Twilio behind the same address: never limited
    assert forged(client, "198.51.100.9").status_code == 403  # another source is not punished
    bad_admin = client.post("/admin/reload", headers={"Authorization": "Bearer guess"},
                            environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert bad_admin.status_code in (403, 429)
    time.sleep(2.1)
    assert forged(client, "203.0.113.7").status_code == 403  # the block expired


def test_failures_are_counted_across_hosts_with_redis(tmp_path, flows_dir, redis_store_url):
    one = make_app(tmp_path / "one", flows_dir, redis_store_url).test_client()
    two = make_app(tmp_path / "two", flows_dir, redis_store_url).test_client()
    for i in range(10):
        assert forged(one, "192.0.2.44").status_code == 403
        assert forged(two, "192.0.2.44").status_code == (429 if i == 9 else 403)
    assert forged(one, "192.0.2.44").status_code == 429  # host one knows about host two's count


def test_oversized_and_overfull_requests_are_refused_without_5xx(tmp_path, flows_dir):
    client = make_app(tmp_path, flows_dir, IVR_MAX_BODY_BYTES="4096").test_client()
    big = client.post("/twilio/voice", data={"CallSid": "CA1", "x": "y" * 10_000})
    assert big.status_code == 413 and big.mimetype == "text/plain"
    many = client.post("/twilio/voice", data={f"f{i}": "1" for i in range(400)})
    assert 400 <= many.status_code < 500


# ------------------------------------------------------------------ replays

def test_replaying_an_ended_call_changes_nothing(tmp_path, flows_dir):
    app = make_app(tmp_path, flows_dir)
    store = services(app).store
    recording = Recording(FlaskTransport(app))
    call = Caller(recording, auth_token=AUTH_TOKEN, public_url=PUBLIC_URL, to=NUMBER)
    call.dial()
    call.press("1")
    call.press("12345678")
    call.press("4321")
    call.press("2")
    call.hang_up()
    before = store.load(call.call_sid)
    assert before.data["session"]["phase"] == "ended"
    events = len(store.events(call.call_sid))
    assert len(recording.requests) >= 6

    for method, url, form, headers in recording.requests * 2:  # replayed, twice, in order
        reply = recording.inner.request(method, url, form, headers)
        assert reply.status < 500, reply.body
        if reply.status == 200:
            root = ET.fromstring(reply.body)
            assert root.tag == "Response" and len(reply.body) < 400, reply.body
            assert root.find("Gather") is None and root.find("Dial") is None, reply.body
    after = store.load(call.call_sid)
    assert after.version == before.version and after.data == before.data
    assert len(store.events(call.call_sid)) == events


# ------------------------------------------------------------------ PII in logs

CARD = "4111111111111111"
PIN = "4321"


def test_a_call_with_a_pin_and_a_card_number_leaves_neither_in_the_logs(tmp_path, flows_dir):
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)  # added after nothing: the mask does not depend on handler order
    root.setLevel(logging.DEBUG)
    try:
        app = make_app(tmp_path, flows_dir)
        call = Caller(FlaskTransport(app), auth_token=AUTH_TOKEN, public_url=PUBLIC_URL, to=NUMBER,
                      call_sid="CA" + "a" * 32, account_sid="AC" + "b" * 32)
        call.dial()
        call.press("1")
        call.say("my card is 4111 1111 1111 1111")  # a card number where the account number belongs
        assert call.heard("Sorry")
        call.press("12345678")
        call.press(PIN)
        call.press("2")
        call.hang_up()
        logging.getLogger("ivr.test").info("the caller said %s and keyed pin=%s", CARD, PIN)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    text = captured.getvalue()
    assert "/twilio/step" in text and "CallSid" in text  # the requests were logged (debug) ...
    assert "[card]" in text and "***" in text  # ... and masked
    for secret in (CARD, "4111 1111 1111 1111", PIN, AUTH_TOKEN, ADMIN_TOKEN):
        assert secret not in text, secret


def test_the_filter_masks_cards_pins_secret_slots_and_url_passwords():
    pii = PiiFilter(secrets=["s3cr3t-token-value"], slot_names=["member_code"])
    assert pii.mask("card 4012 8888 8888 1881 end") == "card [card] end"
    assert pii.mask("order 4012888888881882") == "order 4012888888881882"  # fails Luhn: not a card
    assert pii.mask("{'Digits': '1'}") == "{'Digits': '1'}"  # a menu key stays readable
    assert "98765" not in pii.mask("{'Digits': '98765'}")
    assert "2468" not in pii.mask('"member_code": "2468"')
    assert "2468" not in pii.mask("member_code=2468&x=1")
    assert "s3cr3t" not in pii.mask("token s3cr3t-token-value")
    assert pii.mask("redis://:hunter2@db:6379/0") == "redis://:***@db:6379/0"
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")


# ------------------------------------------------------------------ secrets

def test_secrets_come_from_files_and_are_never_shown(tmp_path):
    (tmp_path / "token").write_text("file-auth-token-abcdef\n")
    (tmp_path / "admin").write_text("file-admin-token-abcdef\n")
    settings = load_settings({"TWILIO_AUTH_TOKEN_FILE": str(tmp_path / "token"),
                              "IVR_ADMIN_TOKEN_FILE": str(tmp_path / "admin"),
                              "IVR_SECRET_KEY": "the-secret-key-value",
                              "IVR_STORE": "redis://:redis-password@127.0.0.1:6379/0"}, environ={})
    assert settings.twilio_auth_token == "file-auth-token-abcdef"
    assert settings.admin_token == "file-admin-token-abcdef"
    shown = repr(settings) + str(settings)
    for secret in ("file-auth-token", "file-admin-token", "the-secret-key-value", "redis-password"):
        assert secret not in shown
    with pytest.raises(SettingsError, match="TWILIO_AUTH_TOKEN_FILE"):
        load_settings({"TWILIO_AUTH_TOKEN_FILE": str(tmp_path / "missing")}, environ={})
