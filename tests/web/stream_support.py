"""Whole calls with local speech over a real media socket.

``speech_line`` runs the demo line (call_flows/) as a real HTTP server on a free port
with the Korean Vosk model: the caller emulator drives its webhooks, a real websocket
client (``MediaStream``) streams the committed Korean recordings as Twilio Media Stream
frames, and Twilio's REST API (the live-call redirects) is mocked with ``responses``.
"""
from __future__ import annotations

import base64
import contextlib
import json
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses
from werkzeug.serving import make_server

from ivr import create_app
from ivr.testing import Caller, FlaskTransport
from ivr.web.live import LiveCall
from ivr.web.services import services

ROOT = Path(__file__).resolve().parents[2]
UTTERANCES = ROOT / "audio" / "test_utterances"
TOKEN = "test-token"
ACCOUNT = "AC" + "1" * 32
FRAME = 160  # bytes of mu-law per media message: 20 ms
REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_or_skip(url: str) -> str:
    """``url`` if Redis answers there; else the test is skipped (it fails in CI)."""
    import os

    import pytest
    import redis

    try:
        redis.Redis.from_url(url.split("?")[0], socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.exceptions.RedisError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis is not reachable at {url} ({exc})")
        pytest.skip(f"Redis is not reachable at {url} ({exc})")
    return url


def audio(uid: str) -> bytes:
    """A committed Korean recording (raw 8 kHz mu-law)."""
    return (UTTERANCES / f"{uid}.ulaw").read_bytes()


class Server:
    """The app under a real threaded HTTP server (one "host" of the line)."""

    def __init__(self, store_url: str, flows_dir: Path = ROOT / "call_flows", var_dir: Path | None = None) -> None:
        config = {"TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": ACCOUNT, "IVR_STORE": store_url,
                  "IVR_FLOWS_DIR": str(flows_dir), "IVR_AUDIO_DIR": str(ROOT / "audio"),
                  "IVR_PUBLIC_URL": "http://127.0.0.1:1"}
        # the call records of a test's own (never the checkout's var/, where calls of earlier
        # tests would make a caller a repeat caller)
        config["IVR_VAR_DIR"] = str(var_dir if var_dir is not None else tempfile.mkdtemp(prefix="ivr-var-"))
        self.app = create_app(config)
        self.http = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.port = self.http.server_port
        object.__setattr__(services(self.app).settings, "public_url", f"http://127.0.0.1:{self.port}")
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    @property
    def store(self):
        return services(self.app).store

    def live(self, call_sid: str) -> LiveCall | None:
        return LiveCall.load(self.store, call_sid)

    def behind(self, other: Server) -> Server:
        """This host answers under ``other``'s public URL (two hosts behind one balancer)."""
        object.__setattr__(services(self.app).settings, "public_url", services(other.app).settings.public_url)
        return self

    def close(self) -> None:
        from ivr.web.forking import before_fork

        self.http.shutdown()
        services(self.app).background.wait_idle(10)
        before_fork(self.app)  # the app's own threads (flow reload, hold sweep) stop as before a fork


class Twilio:
    """Twilio's REST API as ``responses`` sees it: the live-call redirects our server asks for."""

    def __init__(self, rsps: responses.RequestsMock, *servers: Server) -> None:
        self.rsps = rsps
        for server in servers:
            rsps.add_passthru(f"http://127.0.0.1:{server.port}")
        rsps.add(responses.POST, re.compile(r"https://api\.twilio\.com/.*/Calls/CA\w+\.json"),
                 json={"sid": "CA0", "status": "in-progress"}, status=200)
        rsps.add(responses.POST, re.compile(r"https://api\.twilio\.com/.*/Calls\.json"),
                 json={"sid": "CAagent", "status": "queued"}, status=201)  # agent legs
        self.followed: dict[str, int] = {}  # per call: how many of its redirects were carried out

    def redirects(self, call_sid: str = "") -> list[str]:
        """The URLs our server redirected the call to, in order (only ``call_sid``'s when
        given: background work of an earlier test's server may still redirect its calls)."""
        own = f"/Calls/{call_sid}.json" if call_sid else "/Calls/"
        return [parse_qs(c.request.body)["Url"][0] for c in self.rsps.calls
                if own in c.request.url and c.request.method == "POST" and "Url=" in (c.request.body or "")]

    def follow(self, call: Caller, timeout: float = 20.0) -> str:
        """Wait for the server's next redirect of the call and carry it out, as Twilio does."""
        sid = call.params["CallSid"]
        done = self.followed.get(sid, 0)
        wait_for(lambda: len(self.redirects(sid)) > done, timeout, "a redirect of the call")
        url = self.redirects(sid)[done]
        self.followed[sid] = done + 1
        call.update(url)
        return urlsplit(url).path + "?" + urlsplit(url).query


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, what: str = "the condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def korean_call(server: Server, *, korean: bool = True) -> Caller:
    """A caller on the demo line; with ``korean`` they press 9 for the Korean line."""
    call = Caller(FlaskTransport(server.app), auth_token=TOKEN, public_url=services(server.app).settings.public_url)
    call.dial()
    if korean:
        call.press("9")
    return call


class MediaStream:
    """One Media Streams websocket, as Twilio opens it for a ``<Start><Stream>``."""

    def __init__(self, port: int, parameters: dict[str, str], call_sid: str, *, start: bool = True) -> None:
        from websockets.sync.client import connect

        self.call_sid = call_sid
        self.stream_sid = "MZ" + uuid.uuid4().hex
        self.ws = connect(f"ws://127.0.0.1:{port}/twilio/media", open_timeout=5)
        self.chunk = 0
        self.send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        if start:
            self.send({"event": "start", "sequenceNumber": "1", "streamSid": self.stream_sid,
                       "start": {"streamSid": self.stream_sid, "accountSid": ACCOUNT, "callSid": call_sid,
                                 "tracks": ["inbound"], "customParameters": parameters,
                                 "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})

    @classmethod
    def of(cls, server: Server, call: Caller, index: int = -1) -> MediaStream:
        """The socket of the call's ``<Stream>`` number ``index`` (the newest by default)."""
        return cls(server.port, dict(call.streams[index].parameters), call.params["CallSid"])

    def send(self, message: dict) -> None:
        self.ws.send(json.dumps(message))

    def play(self, ulaw: bytes, realtime: bool = False) -> None:
        """Stream audio as media messages (``realtime``: 20 ms apart, as a live line)."""
        started = time.monotonic()
        for i in range(0, len(ulaw), FRAME):
            self.chunk += 1
            self.send({"event": "media", "sequenceNumber": str(self.chunk + 1), "streamSid": self.stream_sid,
                       "media": {"track": "inbound", "chunk": str(self.chunk), "timestamp": str(self.chunk * 20),
                                 "payload": base64.b64encode(ulaw[i:i + FRAME]).decode()}})
            if realtime:
                time.sleep(max(0.0, started + (i // FRAME + 1) * 0.02 - time.monotonic()))

    def silence(self, seconds: float, realtime: bool = False) -> None:
        self.play(b"\xff" * int(8000 * seconds), realtime)

    def say(self, uid: str, lead: float = 0.5, pause: float = 1.2) -> None:
        """Silence, the recording, silence: a caller answering."""
        self.silence(lead)
        self.play(audio(uid))
        self.silence(pause)

    def stop(self) -> None:
        self.send({"event": "stop", "sequenceNumber": "99999", "streamSid": self.stream_sid,
                   "stop": {"accountSid": ACCOUNT, "callSid": self.call_sid}})

    def drop(self) -> None:
        """The socket goes away without a ``stop`` (a network failure)."""
        self.ws.close()

    def closed_by_server(self, timeout: float = 10.0) -> bool:
        """Whether the server closes this socket within ``timeout`` seconds, while the
        socket goes on sending silence as a live line does."""
        from websockets.exceptions import ConnectionClosed

        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.play(b"\xff" * FRAME)
                with contextlib.suppress(TimeoutError):
                    self.ws.recv(timeout=0.02)
        except ConnectionClosed:
            return True
        return False

    def close(self) -> None:
        self.ws.close()
