"""Live reload during live calls, on two hosts sharing Redis: a good edit reaches new calls
(on both hosts, announced over the bus) while a live call keeps its version; a broken
edit is refused with file:line:col in the log and in /admin/reload's JSON; a deleted flow
stops taking new calls while its live calls finish. Also SIGHUP and the file watcher."""
from __future__ import annotations

import requests
from scale_line import flow_text
from scale_support import ADMIN_TOKEN, AUTH_TOKEN, NUMBER, PUBLIC_URL, RoundRobin, wait_until

from ivr.testing import Caller, FlaskTransport
from ivr.web.services import services

OTHER_NUMBER = "+15005550077"
OTHER_FLOW = """\
flow: other-line
numbers: ["+15005550077"]
language: en-US
operator: {digit: "0", phrases: [agent], to: desk}
start: main
nodes:
  main:
    menu:
      prompt: "Welcome to the other line. Press 1 to finish or 2 to hear this again."
      options:
        - {keys: "1", go: bye, label: finish}
        - {keys: "2", go: main, label: again}
  bye:
    hangup: "Goodbye from the other line."
  desk:
    transfer:
      to: ["+15005550010", "queue:support"]
      reason: "Caller asked for a person"
"""


def caller(transport, to: str = NUMBER) -> Caller:
    return Caller(transport, auth_token=AUTH_TOKEN, public_url=PUBLIC_URL, to=to)


def new_call_hears(base: str, text: str, to: str = NUMBER) -> bool:
    call = caller(RoundRobin(base), to)
    call.dial()
    return call.heard(text)


def test_a_good_edit_reaches_new_calls_on_every_host_and_spares_the_live_call(servers, flows_dir):
    a, b = servers(2)
    live = caller(RoundRobin(a.base, b.base))
    live.dial()
    assert live.heard("version one")
    live.press("1")

    (flows_dir / "scale.yaml").write_text(flow_text("version two"))
    reply = a.reload()
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["ok"] and body["problems"] == [] and body["announced"]
    assert set(body["flows"]) == {"scale-line"}

    assert new_call_hears(a.base, "Welcome to the scale line, version two")
    # host B was told over Redis pub/sub; nobody asked it directly
    assert wait_until(lambda: new_call_hears(b.base, "version two"), timeout=10), b.log()[-2000:]
    assert "flows reloaded (announced by" in b.log()

    live.press("12345678")
    live.press("4321")
    assert live.heard("your balance is 42.50 dollars, version one")
    live.press("2")
    assert live.heard("Goodbye from the scale line, version one")
    assert not live.all_errors


def test_a_broken_edit_is_refused_and_the_last_good_version_keeps_serving(servers, flows_dir):
    a, b = servers(2)
    live = caller(RoundRobin(b.base, a.base))
    live.dial()
    live.press("1")

    broken = flow_text("version three").replace("go: pin\n", "go: pinn\n")
    (flows_dir / "scale.yaml").write_text(broken)
    line = broken.splitlines().index("      go: pinn") + 1
    reply = a.reload()
    assert reply.status_code == 422
    body = reply.json()
    assert not body["ok"]
    errors = [p for p in body["problems"] if p["severity"] == "error"]
    assert errors and errors[0]["file"].endswith("scale.yaml") and errors[0]["line"] == line
    assert "'pinn' is not a node" in errors[0]["message"] and "did you mean 'pin'" in errors[0]["hint"]
    where = f"scale.yaml:{line}:{errors[0]['col']}"
    assert where in a.log()
    assert wait_until(lambda: where in b.log(), timeout=10)  # B reloaded too, and refused it too

    for host in (a, b):
        assert new_call_hears(host.base, "Welcome to the scale line, version one")
    live.press("12345678")
    live.press("4321")
    assert live.heard("version one")
    live.press("2")
    assert live.heard("Goodbye")
    assert not live.all_errors


def test_a_deleted_flow_takes_no_new_calls_but_its_live_calls_finish(servers, flows_dir):
    (flows_dir / "other.yaml").write_text(OTHER_FLOW)
    a, b = servers(2)
    live = caller(RoundRobin(a.base, b.base), OTHER_NUMBER)
    live.dial()
    assert live.heard("Welcome to the other line")

    (flows_dir / "other.yaml").unlink()
    b.hup()  # SIGHUP: reload, and announce it to the other host
    assert wait_until(lambda: "flows reloaded (SIGHUP)" in b.log(), timeout=10)
    assert wait_until(lambda: "flows reloaded (announced by" in a.log(), timeout=10)

    for host in (a, b):  # the number now reaches the default flow
        assert new_call_hears(host.base, "Welcome to the scale line", OTHER_NUMBER)
    live.press("2")
    assert live.heard("Welcome to the other line")
    live.press("1")
    assert live.heard("Goodbye from the other line")
    assert not live.all_errors


def test_admin_reload_needs_the_bearer_token(servers):
    (a,) = servers(1)
    assert requests.post(a.base + "/admin/reload", timeout=5).status_code == 401
    assert a.reload("wrong-token").status_code == 403
    assert requests.get(a.base + "/admin/reload", timeout=5).status_code == 405
    assert a.reload(ADMIN_TOKEN).status_code == 200


def test_admin_is_off_without_a_token(tmp_path, flows_dir):
    from ivr.web.app import create_app

    app = create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_FLOWS_DIR": str(flows_dir),
                      "IVR_AUDIO_DIR": str(tmp_path), "IVR_VAR_DIR": str(tmp_path / "var"), "IVR_STORE": f"sqlite:///{tmp_path}/calls.db",
                      "IVR_ADMIN_TOKEN": ""})
    reply = app.test_client().post("/admin/reload", headers={"Authorization": "Bearer "})
    assert reply.status_code in (401, 403)
    reply = app.test_client().post("/admin/reload", headers={"Authorization": "Bearer anything"})
    assert reply.status_code == 403 and "IVR_ADMIN_TOKEN" in reply.json["error"]


def test_the_file_watcher_reloads_a_changed_flow(tmp_path, flows_dir):
    from ivr.web.app import create_app

    app = create_app({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_PUBLIC_URL": PUBLIC_URL,
                      "IVR_FLOWS_DIR": str(flows_dir), "IVR_AUDIO_DIR": str(tmp_path),
                      "IVR_VAR_DIR": str(tmp_path / "var"), "IVR_STORE": f"sqlite:///{tmp_path}/calls.db", "IVR_STREAM_SPEECH": "false",
                      "IVR_WATCH_FLOWS": "1", "IVR_WATCH_INTERVAL": "0.1"})
    try:
        live = caller(FlaskTransport(app))
        live.dial()
        live.press("1")
        (flows_dir / "scale.yaml").write_text(flow_text("version two"))
        assert wait_until(lambda: new_call_hears_app(app, "version two"), timeout=10)
        live.press("12345678")
        live.press("4321")
        assert live.heard("version one")
    finally:
        services(app).reloader.stop()


def new_call_hears_app(app, text: str) -> bool:
    call = caller(FlaskTransport(app))
    call.dial()
    return call.heard(text)
