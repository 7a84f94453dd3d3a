"""gunicorn.conf.py as an operator meets it: gunicorn started with it in a subprocess.

Several workers and no IVR_SECRET_KEY: gunicorn exits non-zero and says what to set.
With the key and the SQLite store: it starts, warns that console events stay in one
worker, and the access-log line of a webhook carries a time, a level and the CallSid.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
TOKEN = "deploy-test-auth-token-0123456789"
PUBLIC = "https://ivr.example.com"
CALL_SID = "CA" + "5e" * 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def line_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "TWILIO_", "GUNICORN_"))}
    env.update({"TWILIO_AUTH_TOKEN": TOKEN, "IVR_PUBLIC_URL": PUBLIC, "IVR_VAR_DIR": str(tmp_path / "var"),
                "IVR_FLOWS_DIR": str(ROOT / "call_flows"), "IVR_AUDIO_DIR": str(ROOT / "audio"),
                "IVR_STREAM_SPEECH": "false", "IVR_MODEL_CACHE": str(tmp_path / "models"), **extra})
    return env


def gunicorn(port: int, env: dict[str, str], log: Path, workers: int = 2) -> subprocess.Popen[bytes]:
    return subprocess.Popen([GUNICORN, "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
                             "--workers", str(workers)], cwd=str(ROOT), env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)


def answering(proc: subprocess.Popen[bytes], base: str, log: Path, within: float = 60.0) -> None:
    """Wait until the server answers /healthz; fail with its log if it exits or never does."""
    deadline = time.monotonic() + within
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            if requests.get(base + "/healthz", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_two_workers_without_a_secret_key_refuse_to_start(tmp_path: Path) -> None:
    log = tmp_path / "gunicorn.log"
    proc = gunicorn(free_port(), line_env(tmp_path), log)
    try:
        code = proc.wait(60)
    finally:
        stop(proc)
    text = log.read_text()
    assert code != 0, text
    assert "2 workers and no IVR_SECRET_KEY" in text, text
    assert "Set IVR_SECRET_KEY" in text and "--workers 1" in text, text


def test_starts_warns_about_the_in_process_bus_and_logs_the_call(tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "gunicorn.log"
    proc = gunicorn(port, line_env(tmp_path, IVR_SECRET_KEY="deploy-test-secret-key-0123456789"), log)
    base = f"http://127.0.0.1:{port}"
    try:
        answering(proc, base, log)
        form = {"CallSid": CALL_SID, "AccountSid": "AC" + "0" * 32, "From": "+15551230000", "To": "+15005550006",
                "CallStatus": "ringing", "Direction": "inbound"}
        signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/twilio/voice", form)
        reply = requests.post(base + "/twilio/voice", data=form, headers={"X-Twilio-Signature": signature}, timeout=15)
        assert reply.status_code == 200 and "<Response>" in reply.text
        pattern = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO gunicorn\.access \[\d+\] "
                             rf"call={CALL_SID} 127\.0\.0\.1 \"POST /twilio/voice HTTP/1\.1\" 200 ", re.M)
        deadline = time.monotonic() + 10
        while not pattern.search(log.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop(proc)
    text = log.read_text()
    assert pattern.search(text), text
    assert re.search(r"^\S+ \S+ WARNING gunicorn\.error \[\d+\] call=- 2 workers share the SQLite store", text, re.M), text
    assert "Set IVR_STORE=redis://" in text
    assert re.search(r"^\S+ \S+ INFO gunicorn\.error .*Booting worker", text, re.M), text  # INFO is kept


def test_one_worker_needs_no_secret_key(tmp_path: Path) -> None:
    """The refusal is about several processes: one worker (its threads) may make up its key."""
    port, log = free_port(), tmp_path / "gunicorn.log"
    env = line_env(tmp_path)
    proc = gunicorn(port, env, log, workers=1)
    try:
        answering(proc, f"http://127.0.0.1:{port}", log)
    finally:
        stop(proc)
    assert "share the SQLite store" not in log.read_text()
