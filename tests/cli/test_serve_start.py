"""``ivr serve`` started from any folder: the recordings are found beside the flows, and a
server whose flows do not all load refuses to start, naming the file and why."""
from __future__ import annotations

import shutil

import requests
from cli_run import REPO, Server, run_ivr


def test_serve_from_another_folder_serves_every_flow(tmp_path):
    server = Server({"IVR_FLOWS_DIR": str(REPO / "call_flows"), "IVR_VAR_DIR": str(tmp_path / "var"),
                     "TWILIO_AUTH_TOKEN": "test-token", "IVR_STREAM_SPEECH": "false"}, cwd=tmp_path)
    try:
        assert server.wait_ready(), server.stop()
        assert requests.get(server.base + "/healthz", timeout=5).json()["flows"] == ["acme-support", "acme-support-ko"]
        assert requests.get(server.base + "/audio/welcome.wav", timeout=5).status_code == 200
    finally:
        server.stop()


def test_a_flow_that_does_not_load_stops_the_start(tmp_path):
    shutil.copytree(REPO / "call_flows", tmp_path / "call_flows")  # no audio/ beside it
    env = {"IVR_FLOWS_DIR": str(tmp_path / "call_flows"), "IVR_VAR_DIR": str(tmp_path / "var"),
           "TWILIO_AUTH_TOKEN": "test-token", "IVR_STREAM_SPEECH": "false", "PATH": "/usr/bin:/bin"}
    done = run_ivr("serve", "--port", "1", cwd=tmp_path, env=env, timeout=60)
    assert done.returncode == 2, done.stderr
    # the Korean line's way back to English ('goto: acme-support') cannot load without it either
    assert "2 flow files did not load" in done.stderr and "acme-support.yaml" in done.stderr
    assert "audio file 'audio/welcome.wav' does not exist" in done.stderr
    assert "Traceback" not in done.stderr


def test_validate_and_simulate_find_the_recordings_from_another_folder(tmp_path):
    flows = str(REPO / "call_flows")
    done = run_ivr("validate", flows, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stdout + done.stderr
    script = tmp_path / "call.yaml"
    script.write_text('steps:\n  - expect: "Acme"\n  - hangup\n')
    done = run_ivr("simulate", "acme-support", "--flows", flows, "--script", str(script), cwd=tmp_path,
                   env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stdout + done.stderr
