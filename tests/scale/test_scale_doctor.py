"""``ivr doctor`` on a good deployment (a running server on Redis; Twilio's API answered by
``responses``) and on a bad one (wrong token, broken flow, no store, refused credentials)."""
from __future__ import annotations

import io
import threading

import pytest
import responses
from werkzeug.serving import make_server

from ivr.doctor import run_doctor
from ivr.web.app import create_app
from scale_support import ADMIN_TOKEN, AUTH_TOKEN, free_port

ACCOUNT = "AC" + "1" * 32
ACCOUNT_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}.json"


@pytest.fixture
def running(tmp_path, flows_dir, redis_store_url):
    """A server on 127.0.0.1 whose public URL is its own address; yields its config."""
    port = free_port()
    config = {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_ACCOUNT_SID": ACCOUNT, "IVR_ADMIN_TOKEN": ADMIN_TOKEN,
              "IVR_SECRET_KEY": "scale-secret-key", "IVR_FLOWS_DIR": str(flows_dir), "IVR_AUDIO_DIR": str(tmp_path),
              "IVR_STORE": redis_store_url, "IVR_STREAM_SPEECH": "false",
              "IVR_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    server = make_server("127.0.0.1", port, create_app(config), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield config
    server.shutdown()


def doctor(config) -> tuple[int, str]:
    out = io.StringIO()
    code = run_doctor(out, config=config, environ={}, timeout=2.0)
    return code, out.getvalue()


def line(text: str, start: str) -> str:
    return next((l for l in text.splitlines() if l[6:].startswith(start)), f"<no line starting {start!r}>")


@responses.activate
def test_a_good_deployment_passes(running):
    responses.add_passthru("http://127.0.0.1")
    responses.get(ACCOUNT_URL, json={"sid": ACCOUNT, "friendly_name": "Acme support", "status": "active"})
    code, text = doctor(running)
    assert code == 0, text
    assert "FAIL" not in text
    assert line(text, "GET ").startswith("OK"), text
    assert line(text, "signature self-test").startswith("OK  "), text
    assert line(text, "flows valid").startswith("OK"), text
    assert line(text, "store").startswith("OK"), text
    assert line(text, "Twilio account Acme support is active").startswith("OK"), text
    assert line(text, "IVR_PUBLIC_URL=").startswith("WARN") and "https" in text  # plain http is only a warning
    assert AUTH_TOKEN not in text and ADMIN_TOKEN not in text


@responses.activate
def test_a_bad_deployment_says_what_to_fix(running, tmp_path):
    responses.add_passthru("http://127.0.0.1")
    responses.get(ACCOUNT_URL, status=401, json={"code": 20003, "message": "Authenticate", "status": 401})
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bad.yaml").write_text("flow: bad\nstart: main\nnodes:\n  main:\n    sya: hello\n")
    config = {**running, "TWILIO_AUTH_TOKEN": "another-token-entirely", "IVR_FLOWS_DIR": str(broken),
              "IVR_STORE": "redis://127.0.0.1:1/0?socket_connect_timeout=0.5", "IVR_ADMIN_TOKEN": ""}
    code, text = doctor(config)
    assert code == 1, text
    assert line(text, "signature self-test").startswith("FAIL") and "another token" in text, text
    assert line(text, "flows:").startswith("FAIL") and "bad.yaml:5:5" in text, text
    assert line(text, "store").startswith("FAIL") and "IVR_STORE" in line(text, "store"), text
    assert line(text, "Twilio refused the credentials").startswith("FAIL"), text
    assert line(text, "IVR_ADMIN_TOKEN").startswith("WARN"), text
    assert "another-token-entirely" not in text


def test_unparseable_settings_fail_first():
    code, text = doctor({"IVR_STORE": "postgres://x", "TWILIO_AUTH_TOKEN": "x"})
    assert code == 1 and text.startswith("FAIL  settings:") and "IVR_STORE" in text
    code, text = doctor({"TWILIO_AUTH_TOKEN": "", "IVR_PUBLIC_URL": "", "IVR_STORE": "sqlite:////nonexistent/x/y.db",
                         "IVR_FLOWS_DIR": "/nonexistent"})
    assert code == 1
    assert line(text, "TWILIO_AUTH_TOKEN is not set").startswith("FAIL")
    assert line(text, "IVR_PUBLIC_URL is not set").startswith("FAIL")


def test_the_agents_file_is_checked(tmp_path):
    """Ops learn before agents do that the console's sign-ins are broken."""
    from werkzeug.security import generate_password_hash

    good = tmp_path / "agents.yaml"
    good.write_text("agents:\n  - name: alice\n    display_name: Alice\n"
                    f"    password_hash: \"{generate_password_hash('a long password')}\"\n"
                    "    targets: [client:alice]\n")
    bad = tmp_path / "bad-agents.yaml"
    bad.write_text("agents:\n  - name: bob\n    password: hunter22\n")
    base = {"TWILIO_AUTH_TOKEN": "t" * 32, "IVR_FLOWS_DIR": str(tmp_path / "none")}

    _, text = doctor({**base, "IVR_AGENTS_FILE": str(good)})
    assert line(text, "agents file: 1 agent(s) can sign in").startswith("OK"), text
    code, text = doctor({**base, "IVR_AGENTS_FILE": str(bad)})
    assert code == 1 and line(text, "agents file").startswith("FAIL"), text
    assert "plain passwords are not allowed" in text and "hunter22" not in text  # never echoed
    _, text = doctor({**base, "IVR_AGENTS_FILE": str(tmp_path / "missing.yaml")})
    assert line(text, "IVR_AGENTS_FILE=").startswith("FAIL"), text
    _, text = doctor(base)
    assert line(text, "IVR_AGENTS_FILE is not set").startswith("WARN"), text
