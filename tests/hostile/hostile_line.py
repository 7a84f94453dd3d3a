"""The line under attack: a real gunicorn started with the README's production recipe,
the demo flows (local speech on: the Korean model is loaded, so the media socket is
served), a flow whose order lookup asks a back end that drips its answer, an agents
file, and a probe that keeps placing signed incoming calls while an attack runs.

Rules of this file: everything listens on 127.0.0.1 only; attackers use other loopback
addresses (127.0.0.2 and up) so each attack's lock-out is its own; every loop is bounded
in time or count; every process and thread started here is stopped by the fixture that
started it.
"""
from __future__ import annotations

import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from werkzeug.security import generate_password_hash

from ivr.testing import compute_signature

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"  # beside this Python, as `pip install -e .` put it
AUTH_TOKEN = "hostile-auth-token-0123456789abcdef"
ADMIN_TOKEN = "hostile-admin-token-0123456789abcdef"
PUBLIC_URL = "https://ivr.example.com"
NUMBER = "+15005550006"  # the demo line
DRIP_NUMBER = "+15005550077"
PASSWORD = "alice-correct-horse"
ANSWER_WITHIN = 2.0  # seconds: what every probe call must get its TwiML in

DRIP_FLOW = """\
flow: drip-line
description: A line whose order back end drips its answer (hostile tests)
numbers: ["{number}"]
operator: {{digit: "0", phrases: [agent], to: desk}}
start: ask
nodes:
  ask:
    collect:
      prompt: "Key in your six digit order number."
      slot: {{name: order_id, kind: digits, length: 6}}
      go: look
  look:
    lookup:
      http: {{url: "http://127.0.0.1:{port}/orders/{{order_id}}", timeout: 2}}
      found: said
      not_found: said
      error: desk
  said:
    say: "Found it."
    go: bye
  bye:
    hangup: "Goodbye."
  desk:
    transfer: {{to: ["+15005550010", "queue:support"], reason: "The order back end is slow"}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SourceAdapter(HTTPAdapter):
    """Requests sent from one loopback address (an attacker of its own)."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["source_address"] = (self.source, 0)
        return super().init_poolmanager(*args, **kwargs)


def session_from(source: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", SourceAdapter(source))
    return session


class DripServer:
    """A back end that sends its headers, then one byte every half second for a minute."""

    def __init__(self) -> None:
        stopping = self.stopping = threading.Event()

        class Drip(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "200")
                self.end_headers()
                for _ in range(120):
                    if stopping.wait(0.5):
                        return
                    try:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    except OSError:
                        return

            def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Drip)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


class Line:
    """gunicorn, as the README's Production section starts it, on 127.0.0.1."""

    def __init__(self, home: Path, drip_port: int) -> None:
        self.home = home
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.flows = home / "flows"
        shutil.copytree(ROOT / "call_flows", self.flows)
        (self.flows / "drip.yaml").write_text(DRIP_FLOW.format(number=DRIP_NUMBER, port=drip_port))
        (home / "agents.yaml").write_text(
            "agents:\n  - name: alice\n    display_name: Alice Moreno\n"
            f"    password_hash: \"{generate_password_hash(PASSWORD)}\"\n    targets: [client:alice]\n")
        self.log_path = home / "gunicorn.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "TWILIO_", "GUNICORN_"))}
        env.update({
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_ADMIN_TOKEN": ADMIN_TOKEN, "IVR_SECRET_KEY": "hostile-secret-key",
            "IVR_PUBLIC_URL": PUBLIC_URL, "IVR_FLOWS_DIR": str(self.flows), "IVR_AUDIO_DIR": str(ROOT / "audio"),
            "IVR_STORE": f"sqlite:///{home / 'var' / 'calls.sqlite3'}", "IVR_VAR_DIR": str(home / "var"),
            "IVR_AGENTS_FILE": str(home / "agents.yaml"), "IVR_RECORDS_URL": f"sqlite:///{home / 'records.sqlite3'}",
            "PYTHONUNBUFFERED": "1",
        })
        (home / "var").mkdir(exist_ok=True)
        log = open(self.log_path, "ab")
        # README, Production: gunicorn --workers 2 --threads 16 --bind ... 'ivr:create_app()'
        self.process = subprocess.Popen(
            [str(GUNICORN), "--workers", "2", "--threads", "16", "--bind", f"127.0.0.1:{self.port}",
             "ivr:create_app()"], env=env, cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        ready = 0
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            try:
                if requests.get(self.base + "/healthz", timeout=1).status_code == 200:
                    ready += 1
                    if ready >= 4 and self.log().count("Booting worker") >= 2:
                        return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz in {timeout} s:\n{self.log()[-4000:]}")

    def workers(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def rss_mb(self) -> dict[int, float]:
        """Resident memory of each worker, in MB."""
        out = {}
        for pid in self.workers():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        out[pid] = int(line.split()[1]) / 1024
            except OSError:
                continue
        return out

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def incoming_call(base: str, number: str = NUMBER, source: str = "127.0.0.1",
                  session: requests.Session | None = None) -> tuple[float, requests.Response]:
    """One signed incoming-call webhook, as Twilio sends it; (seconds, response)."""
    form = {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32, "From": "+15005550123",
            "To": number, "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}
    headers = {"X-Twilio-Signature": compute_signature(AUTH_TOKEN, PUBLIC_URL + "/twilio/voice", form)}
    began = time.monotonic()
    reply = (session or requests).post(base + "/twilio/voice", data=form, headers=headers, timeout=10)
    return time.monotonic() - began, reply


@dataclass
class Probe:
    """Signed incoming calls, one after another, while an attack runs."""

    base: str
    at_least: float = 1.5  # seconds the probe keeps calling, however short the attack
    times: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _began: float = 0.0

    def __enter__(self) -> Probe:
        self._began = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            try:
                took, reply = incoming_call(self.base, session=session)
                self.times.append(took)
                if reply.status_code != 200 or b"<Response" not in reply.content:
                    self.failures.append(f"{reply.status_code}: {reply.text[:200]}")
            except requests.RequestException as exc:
                self.times.append(10.0)
                self.failures.append(str(exc))
            self._stop.wait(0.15)

    def __exit__(self, *exc: object) -> None:
        self._stop.wait(max(0.0, self.at_least - (time.monotonic() - self._began)))
        self._stop.set()
        if self._thread is not None:
            self._thread.join(15)

    @property
    def worst(self) -> float:
        return max(self.times, default=0.0)

    def check(self, attack: str) -> None:
        """Every probe call got its TwiML, each within ``ANSWER_WITHIN`` seconds."""
        print(f"\n{attack}: {len(self.times)} probe calls, worst answer {self.worst * 1000:.0f} ms")
        assert len(self.times) >= 3, f"{attack}: too few probe calls ({len(self.times)})"
        assert not self.failures, f"{attack}: {self.failures[:3]}"
        assert self.worst < ANSWER_WITHIN, f"{attack}: a call waited {self.worst:.2f} s for its answer"


def run_for(seconds: float, threads: int, work) -> list:  # type: ignore[no-untyped-def]
    """``work(i)`` in ``threads`` threads, again and again, for ``seconds``; every result."""
    results: list = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def loop(i: int) -> None:
        while time.monotonic() < deadline:
            value = work(i)
            with lock:
                results.append(value)

    pool = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(seconds + 20)
    return results
