"""Helpers for the worklist tests: the app (``create_app`` with real settings names), a
clock, callers through the emulator, a signed-in console client, and the receiver of
the worklist notifications.

Rules of this file: the app is reached only through HTTP (the emulator, signed like
Twilio, and Flask's test client for the console); the only hooks used are the app's
clock (``services(app).clock``), the background pools' ``wait_idle`` (work done off the
webhooks' threads: the line's, and the worklist desk's own) and the notifier's ``sleep`` (its backoff, so retries take no time).
"""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import responses
from werkzeug.security import generate_password_hash

from ivr.telephony.crm import verify
from ivr.testing import Caller, FlaskTransport, hand_clock
from ivr.web.app import create_app
from ivr.web.services import services

HERE = Path(__file__).resolve().parent
AUTH_TOKEN = "test-auth-token-worklists-0123456789"
ACCOUNT_SID = "AC" + "5" * 32
PUBLIC_URL = "https://ivr.example.com"
LINE_NUMBER = "+15005550006"
CALLER = "+15557770123"
HOOK_URL = "https://tickets.example.com/hooks/ivr"
HOOK_SECRET = "worklist-hook-secret-0123456789"
OPEN = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
PASSWORD = "alice-correct-horse"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CALLS_API = re.compile(r"https://api\.twilio\.com/2010-04-01/Accounts/AC\w+/Calls\.json")


class Clock:
    def __init__(self, at: datetime = OPEN) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def agents_yaml() -> str:
    return ("agents:\n  - name: alice\n    display_name: Alice Moreno\n"
            f"    password_hash: \"{generate_password_hash(PASSWORD)}\"\n"
            "    targets: [\"queue:support\", \"client:alice\"]\n")


def config(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    (tmp_path / "agents.yaml").write_text(agents_yaml(), encoding="utf-8")
    return {
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "IVR_PUBLIC_URL": PUBLIC_URL,
        "IVR_FLOWS_DIR": str(HERE / "flows"),
        "IVR_AUDIO_DIR": str(HERE / "flows"),
        "IVR_STORE": f"sqlite:///{tmp_path / 'store' / 'calls.sqlite3'}",
        "IVR_VAR_DIR": str(tmp_path / "var"),
        "IVR_VALIDATE_SIGNATURES": "true",
        "IVR_STREAM_SPEECH": "false",
        "IVR_VOSK_MODEL": "",
        "IVR_MODEL_CACHE": str(tmp_path / "models"),
        "IVR_SECRET_KEY": "worklist-test-secret",
        "IVR_AGENTS_FILE": str(tmp_path / "agents.yaml"),
        "IVR_WORKLIST_WEBHOOK_URL": HOOK_URL,
        "IVR_WORKLIST_WEBHOOK_SECRET": HOOK_SECRET,
        **extra,
    }


def make_app(tmp_path: Path, clock: Clock | None = None, **extra: Any):
    app = create_app(config(tmp_path, **extra))
    hand_clock(app, clock or Clock())  # the hold sweep, on real time, is left to the tests
    desk = app.extensions["ivr-worklists"]
    if desk is not None and desk.notifier is not None:
        desk.notifier.sleep = lambda seconds: None  # retries without waiting
    return app


class WorkLine:
    """The line, its clock, the mocked outside world and what was delivered to the receiver."""

    def __init__(self, app, api: responses.RequestsMock) -> None:
        self.app, self.api = app, api
        self.clock: Clock = services(app).clock  # type: ignore[assignment]
        self.callers: list[Caller] = []
        self.hook_status = [200]  # what the receiver answers, try after try (the last one repeats)
        api.add_callback(responses.POST, HOOK_URL, callback=self._hook)
        self.delivered: list[dict[str, Any]] = []  # every notification that reached the receiver

    def _hook(self, request) -> tuple[int, dict, str]:
        body = request.body if isinstance(request.body, bytes) else request.body.encode()
        self.delivered.append({"body": json.loads(body), "raw": body, "headers": dict(request.headers)})
        status = self.hook_status.pop(0) if len(self.hook_status) > 1 else self.hook_status[0]
        return status, {}, ""

    def taken(self) -> list[dict[str, Any]]:
        """Notifications whose signature the receiver accepts (a retry repeats one)."""
        return [d for d in self.delivered if verify(HOOK_SECRET, d["raw"], d["headers"]["X-IVR-Signature"])]

    def caller(self, **kwargs: Any) -> Caller:
        kwargs.setdefault("auth_token", AUTH_TOKEN)
        kwargs.setdefault("public_url", PUBLIC_URL)
        kwargs.setdefault("caller", CALLER)
        kwargs.setdefault("account_sid", ACCOUNT_SID)
        call = Caller(FlaskTransport(self.app), **kwargs)
        self.callers.append(call)
        return call

    def call(self, **kwargs: Any) -> Caller:
        call = self.caller(**kwargs)
        call.dial()
        return call

    def settle(self) -> None:
        """Wait for the work done off the webhooks (records, worklists, notifications)."""
        assert services(self.app).background.wait_idle(30)  # the record, and the items filed
        desk = self.app.extensions["ivr-worklists"]  # None: the records are off
        assert desk is None or desk.background.wait_idle(60)  # notified, transcribed

    def agent(self):
        """A console client signed in as alice."""
        client = self.app.test_client()
        page = client.get("/console/sign-in")
        reply = client.post("/console/sign-in", data={"name": "alice", "password": PASSWORD,
                                                      "csrf_token": csrf_of(page.get_data(as_text=True))})
        assert reply.status_code == 302, reply.get_data(as_text=True)
        return client

    def check(self) -> None:
        errors = [str(e) for call in self.callers for e in call.all_errors]
        assert not errors, errors
        for call in self.callers:
            for reply in call.responses:
                assert reply.status < 500, (reply.url, reply.status, reply.body)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def leave_message(work: WorkLine, seconds: int = 12, **kwargs: Any) -> Caller:
    """A caller who presses 2, leaves a message and hangs up."""
    call = work.call(**kwargs)
    call.press("2")
    assert call.heard("leave your message"), call.last_heard
    call.record(duration=seconds)
    if call.state != "ended":
        call.hang_up()
    return call


def ask_for_call_back(work: WorkLine, **kwargs: Any) -> Caller:
    """A caller who presses 1, hears the promise to the end and is said goodbye."""
    call = work.call(**kwargs)
    call.press("1")
    assert call.heard("call you back"), call.last_heard
    call.silence()
    assert call.state == "ended", (call.state, call.last_heard)
    return call
