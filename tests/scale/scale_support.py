"""Helpers of the scale tests: a real Redis, real server processes, transports that
spread one call over several hosts.

Rules of this file: servers are real processes (``python -m ivr.cli serve``, threaded
werkzeug) on 127.0.0.1 with their own ports, sharing one Redis under a key prefix of the
test's own (deleted afterwards); nothing of the app is imported into a server, mocked or
patched. Every server writes its log to a file the test can read.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Mapping

import requests

from ivr.testing import HttpTransport, Reply

ROOT = Path(__file__).resolve().parents[2]
REDIS_BASE = os.environ.get("IVR_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
AUTH_TOKEN = "scale-auth-token-0123456789abcdef"
ADMIN_TOKEN = "scale-admin-token-0123456789abcdef"
PUBLIC_URL = "https://ivr.example.com"
NUMBER = "+15005550006"


def redis_reachable(url: str = REDIS_BASE) -> str | None:
    """None when Redis answers PING, else why not."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2).ping()
        return None
    except Exception as exc:  # connection refused, timeout, auth...
        return f"{type(exc).__name__}: {exc}"


def delete_prefix(prefix: str, url: str = REDIS_BASE) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    for i in range(0, len(keys), 500):
        client.delete(*keys[i:i + 500])


def new_prefix() -> str:
    return f"ivrscale-{uuid.uuid4().hex[:10]}"


def store_url(prefix: str) -> str:
    return f"{REDIS_BASE}?prefix={prefix}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(flows_dir: Path, store: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "TWILIO_"))}
    env.update({
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "IVR_ADMIN_TOKEN": ADMIN_TOKEN,
        "IVR_SECRET_KEY": "scale-secret-key",
        "IVR_PUBLIC_URL": PUBLIC_URL,
        "IVR_FLOWS_DIR": str(flows_dir),
        "IVR_AUDIO_DIR": str(flows_dir.parent / "audio"),
        "IVR_STORE": store,
        "IVR_STREAM_SPEECH": "false",
        "IVR_VAR_DIR": str(flows_dir.parent / "var"),
        "PYTHONUNBUFFERED": "1",
        **extra,
    })
    (flows_dir.parent / "audio").mkdir(exist_ok=True)
    return env


class Server:
    """``ivr serve`` in its own process on a free port; its log in ``log_path``."""

    def __init__(self, env: Mapping[str, str], log_dir: Path, name: str):
        self.env = dict(env)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.name = name
        self.log_path = log_dir / f"{name}-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> "Server":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ivr.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server {self.name} exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(self.base + "/healthz", timeout=0.5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server {self.name} did not answer /healthz in {timeout} s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def hup(self) -> None:
        self.process.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def reload(self, token: str = ADMIN_TOKEN) -> requests.Response:
        return requests.post(self.base + "/admin/reload", headers={"Authorization": f"Bearer {token}"}, timeout=10)


class RoundRobin:
    """A transport that sends each request of a call to the next host in turn; hosts can
    be swapped during the call (a crashed host replaced by a fresh one)."""

    def __init__(self, *bases: str):
        self.hosts = [HttpTransport(b, timeout=10) for b in bases]
        self.turn = 0
        self.sent: list[tuple[str, str]] = []  # (host, path) of every request

    def replace(self, old: str, new: str) -> None:
        self.hosts = [HttpTransport(new, timeout=10) if h.base_url == old else h for h in self.hosts]

    def request(self, method: str, url: str, form, headers) -> Reply:
        host = self.hosts[self.turn % len(self.hosts)]
        self.turn += 1
        self.sent.append((host.base_url, url.split("://", 1)[-1].split("/", 1)[-1].split("?")[0]))
        return host.request(method, url, form, headers)


class Recording:
    """A transport that remembers every request it delivered (to replay them later)."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.requests: list[tuple[str, str, dict | None, dict]] = []

    def request(self, method, url, form, headers) -> Reply:
        self.requests.append((method, url, dict(form) if form is not None else None, dict(headers)))
        return self.inner.request(method, url, form, headers)


def wait_until(predicate, timeout: float = 10.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())
