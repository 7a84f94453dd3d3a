"""Shared helpers for the console tests: the demo line with an agents file, signed-in
test clients, and callers driven to a transfer.

Rules of this file: the app is built by ``create_app`` with real settings names, a real
SQLite store, the demo flows and real werkzeug password hashes; calls are placed by the
caller emulator, signed like Twilio. The only test hook used is the app's clock
(``services(app).clock``).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from werkzeug.security import generate_password_hash

from ivr.testing import Caller, FlaskTransport, hand_clock
from ivr.web.app import create_app
from ivr.web.services import services

ROOT = Path(__file__).resolve().parents[2]
AUTH_TOKEN = "test-auth-token-console-0123456789"
PUBLIC_URL = "https://ivr.example.com"
OPEN = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)  # a Wednesday, 10:00 in New York: the line is open
PASSWORDS = {"alice": "alice-correct-horse", "bob": "bob-battery-staple"}
# The demo flow's transfer targets are client:alice, +15005550010, queue:support.
AGENTS = {"alice": ("Alice Moreno", ["client:alice"]), "bob": ("Bob Okafor", ["client:bob", "+15005550099"])}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@lru_cache(maxsize=1)
def agents_yaml() -> str:
    lines = ["agents:"]
    for name, (display, targets) in AGENTS.items():
        lines += [f"  - name: {name}", f"    display_name: {display}",
                  f"    password_hash: \"{generate_password_hash(PASSWORDS[name])}\"",
                  "    targets: [" + ", ".join(f'"{t}"' for t in targets) + "]"]
    return "\n".join(lines) + "\n"


class Clock:
    """The app's clock: starts when the line is open and moves ``step`` seconds per read,
    so times in automation look like a real call's."""

    def __init__(self, at: datetime = OPEN, step: float = 0.0) -> None:
        self.at = at
        self.step = step

    def __call__(self) -> datetime:
        self.at += timedelta(seconds=self.step)
        return self.at


def config(tmp_path: Path, *, agents: bool = True, public_url: str = PUBLIC_URL, **extra: Any) -> dict[str, Any]:
    if agents:
        (tmp_path / "agents.yaml").write_text(agents_yaml(), encoding="utf-8")
    return {
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": "",
        "IVR_PUBLIC_URL": public_url,
        "IVR_FLOWS_DIR": str(ROOT / "call_flows"),
        "IVR_AUDIO_DIR": str(ROOT / "audio"),
        "IVR_VAR_DIR": str(tmp_path / "var"), "IVR_STORE": f"sqlite:///{tmp_path / 'store' / 'calls.sqlite3'}",
        "IVR_VALIDATE_SIGNATURES": "true",
        "IVR_STREAM_SPEECH": "false",
        "IVR_VOSK_MODEL": "",
        "IVR_MODEL_CACHE": str(tmp_path / "models"),
        "IVR_SECRET_KEY": "console-test-secret",
        "IVR_AGENTS_FILE": str(tmp_path / "agents.yaml") if agents else "",
        **extra,
    }


def make_app(tmp_path: Path, clock: Clock | None = None, **kwargs: Any):
    app = create_app(config(tmp_path, **kwargs))
    hand_clock(app, clock or Clock())  # the hold sweep, on real time, is left to the tests
    app.config.update(IVR_CONSOLE_HEARTBEAT=0.2, IVR_CONSOLE_STREAM_SECONDS=5.0)
    return app


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(app, name: str, password: str | None = None):
    """A test client signed in as ``name`` (asserts it worked)."""
    client = app.test_client()
    page = client.get("/console/sign-in")
    reply = client.post("/console/sign-in", data={"name": name, "password": password or PASSWORDS[name],
                                                  "csrf_token": csrf_of(page.get_data(as_text=True))})
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return client


def board_csrf(client) -> str:
    page = client.get("/console/")
    assert page.status_code == 200
    return csrf_of(page.get_data(as_text=True))


def caller(app, transport=None, public_url: str = PUBLIC_URL, **kwargs: Any) -> Caller:
    return Caller(transport or FlaskTransport(app), auth_token=AUTH_TOKEN, public_url=public_url, **kwargs)


def to_a_person(call: Caller) -> Caller:
    """Dial the demo line, ask about an order, give an unknown number, then press 0."""
    call.dial()
    call.press("1")
    call.press("111111")
    call.press("0")
    assert call.state == "dialing", (call.state, call.last_heard)
    return call


def session_of(app, call_sid: str) -> dict:
    stored = services(app).store.load(call_sid)
    assert stored is not None, f"no saved call {call_sid}"
    return stored.data["session"]
