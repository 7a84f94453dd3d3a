"""Shared helpers for the webhook tests: the app under test, a settable clock, callers
that check every reply like Twilio would, and a map of the flows' listening nodes.

Rules of this file: everything goes through ``create_app`` with real settings names, a
real SQLite file and the caller emulator signing like Twilio; nothing here reaches into
the app's internals except ``services(app).clock`` (the documented test hook)
and the store (to assert what was saved).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ivr.flows.library import FlowLibrary
from ivr.flows.nodes.collect import CollectNode
from ivr.flows.nodes.hours import status as hours_status
from ivr.flows.nodes.lookup import LookupNode
from ivr.flows.nodes.menu import MenuNode
from ivr.model.actions import DataLookup, Listen
from ivr.model.events import CallStarted, DigitsPressed, LookupResult, NoInput, SpeechHeard
from ivr.model.flow import Flow
from ivr.runtime import advance
from ivr.testing import Caller, FlaskTransport
from ivr.web.app import create_app
from ivr.web.services import services

ROOT = Path(__file__).resolve().parents[2]
FLOWS_DIR = ROOT / "call_flows"
AUTH_TOKEN = "test-auth-token-web-0123456789abcdef"
PUBLIC_URL = "https://ivr.example.com"
DEMO_NUMBER = "+15005550006"
MAX_TWIML_BYTES = 64 * 1024
UTC = UTC

# Moments for the demo line (America/New_York; mon-fri 08-20, sat 09-14; 2026-12-25 off).
OPEN = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)            # Wednesday 10:00 New York
CLOSED = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)          # Sunday 11:00 New York
HOLIDAY = datetime(2026, 12, 25, 15, 0, tzinfo=UTC)       # Christmas, a Friday, 10:00
BEFORE_CLOSING = datetime(2026, 3, 6, 0, 59, 30, tzinfo=UTC)  # Thursday 19:59:30 New York


class Clock:
    """The app's clock (``services(app).clock``): stands still unless moved."""

    def __init__(self, at: datetime = OPEN) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def config(tmp_path: Path, flows_dir: Path = FLOWS_DIR, audio_dir: Path | None = None,
           **extra: Any) -> dict[str, Any]:
    audio = audio_dir or ROOT / "audio"               # the demo line's recordings
    return {
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "IVR_PUBLIC_URL": PUBLIC_URL,
        "IVR_FLOWS_DIR": str(flows_dir),
        "IVR_AUDIO_DIR": str(audio),
        "IVR_STORE": f"sqlite:///{tmp_path / 'store' / 'calls.sqlite3'}",
        "IVR_VAR_DIR": str(tmp_path / "var"),  # the call records go to var/records.sqlite3 there
        "IVR_VALIDATE_SIGNATURES": "true",
        "IVR_STREAM_SPEECH": "false",  # Twilio's recogniser: <Gather input="dtmf speech">
        "IVR_VOSK_MODEL": "",
        "IVR_MODEL_CACHE": str(tmp_path / "models"),
        "IVR_SECRET_KEY": "test-secret",
        **extra,
    }


def make_app(tmp_path: Path, clock: Clock | None = None, **kwargs: Any):
    app = create_app(config(tmp_path, **kwargs))
    if clock is not None:
        services(app).clock = clock
    return app


# --------------------------------------------------------------------- checking replies

def check_reply(reply) -> ET.Element | None:
    """What Twilio demands of a webhook answer: never a 5xx; a 200 is TwiML under 64 kB.

    Returns the parsed <Response> for a 200 with a body, else None."""
    assert reply.status < 500, f"{reply.url}: HTTP {reply.status}: {reply.exception or reply.body!r}"[:2000]
    if reply.status != 200 or (reply.mimetype.startswith("audio/") and "/audio/" in reply.url):
        return None  # (a <Play> file the app served is checked by the audio tests)
    assert reply.mimetype in ("text/xml", "application/xml"), (reply.url, reply.content_type)
    body = reply.body if isinstance(reply.body, bytes) else reply.body.encode("utf-8")
    assert len(body) < MAX_TWIML_BYTES, f"{reply.url}: {len(body)} bytes of TwiML"
    root = ET.fromstring(body)
    assert root.tag == "Response", root.tag
    return root


def twiml_replies(callers: Iterable[Caller]):
    for call in callers:
        for leg in (call, *call.agents):
            yield from leg.responses


class Line:
    """The demo line (or a test flow directory) behind the Flask app, with its clock.

    ``call()`` places calls; ``check()`` (run after each test by the fixture) asserts that
    every reply any call got was valid TwiML and that no call hit a Twilio error."""

    def __init__(self, app, clock: Clock) -> None:
        self.app = app
        self.clock = clock
        self.store = services(app).store
        self.callers: list[Caller] = []

    def caller(self, **kwargs: Any) -> Caller:
        kwargs.setdefault("auth_token", AUTH_TOKEN)
        kwargs.setdefault("public_url", PUBLIC_URL)
        call = Caller(FlaskTransport(self.app), **kwargs)
        self.callers.append(call)
        return call

    def call(self, **kwargs: Any) -> Caller:
        """A caller who has dialled the line and heard its first prompt."""
        call = self.caller(**kwargs)
        call.dial()
        return call

    def session(self, call: Caller) -> dict:
        stored = self.store.load(call.call_sid)
        assert stored is not None, f"no session saved for {call.call_sid}"
        return stored.data["session"]

    def events(self, call: Caller) -> list[dict]:
        return self.store.events(call.call_sid)

    def check(self) -> None:
        for reply in twiml_replies(self.callers):
            check_reply(reply)
        errors = [str(e) for call in self.callers for e in call.all_errors]
        assert not errors, errors


def last_twiml(call: Caller) -> str:
    """The body of the last TwiML document the call fetched."""
    return next(r.body for r in reversed(call.responses) if r.mimetype in ("text/xml", "application/xml"))


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def gather_node(call: Caller) -> str:
    """The node the call's pending <Gather> answers (from its action URL)."""
    assert call.gather is not None, f"not at a Gather: {call.state}, heard {call.last_heard!r}"
    return query(call.gather.action).get("node", "")


# ------------------------------------------------------------------ the flows' prompts

def first_moment(flow: Flow, want_open: bool, start: datetime = OPEN) -> datetime | None:
    """A moment at which ``flow``'s line is open (or not), scanning a week in 30 min steps."""
    if flow.hours is None:
        return start if want_open else None
    for half_hours in range(7 * 48):
        at = start + timedelta(minutes=30 * half_hours)
        if (hours_status(flow.hours, at) == "open") == want_open:
            return at
    return None


def _inputs(flow: Flow, node, phase: str) -> list[tuple[str, str]]:
    """What a caller might try at a listening node: each option's keys or first phrase;
    for a collect, values of the slot's kind (digit strings of the right length include
    every key of a lookup table of the flow, so lookups find something as well as
    nothing); yes and no at a read-back."""
    tries: list[tuple[str, str]] = []
    if phase == "confirming":
        tries += [("press", "1"), ("press", "2")]
    elif isinstance(node, MenuNode):
        for option in node.options:
            if option.keys:
                tries.append(("press", option.keys))
            elif option.phrases:
                tries.append(("say", option.phrases[0]))
    elif isinstance(node, CollectNode):
        slot = node.slot
        if slot.kind == "digits":
            known = {part for n in flow.nodes.values() if isinstance(n, LookupNode)
                     for key in n.rows for part in key.split("-") if part.isdigit()}
            tries += [("press", k) for k in sorted(known) if slot.min_length <= len(k) <= slot.max_length]
            tries.append(("press", "1" * slot.min_length))
        elif slot.kind == "yes_no":
            tries += [("press", "1"), ("press", "2")]
        elif slot.kind == "number":
            tries.append(("say", str(int(slot.min or 1))))
        elif slot.kind == "date":
            tries.append(("say", "march third"))
    tries.append(("silence", ""))
    return tries


def _event(kind: str, value: str, at: datetime):
    if kind == "press":
        return DigitsPressed(at, value)
    if kind == "say":
        return SpeechHeard(at, value, 0.9)
    return NoInput(at)


def not_found(action: DataLookup, at: datetime) -> LookupResult:
    return LookupResult(at, "not_found")


def listening_paths(library: FlowLibrary) -> list[tuple[str, str, datetime, str, tuple | None]]:
    """For every listening node of every loaded flow: (flow, node, start moment, the
    number dialled, inputs)
    that bring a new call there, found by a breadth-first search driving the engine
    itself from every number (and the default entry), open and closed, following flow
    switches; HTTP lookups answer "not found". A node no path reaches is returned with
    ``inputs=None`` so that a test fails on it rather than skipping it."""
    paths: dict[tuple[str, str], tuple[datetime, str, tuple]] = {}
    entries = [(flow, number) for flow in library.flows.values()
               for number in (flow.numbers or (("",) if flow.default else ()))]
    for flow, number in entries:
        for want_open in (True, False):
            at = first_moment(flow, want_open)
            if at is None:
                continue
            outcome = advance(library, None, CallStarted(at, "CA-bfs", "+15551230000", number), not_found)
            queue = deque([(outcome, ())])
            seen: set[tuple] = set()
            while queue:
                outcome, inputs = queue.popleft()
                listen = outcome.actions[-1] if outcome.actions else None
                session = outcome.session
                if not isinstance(listen, Listen) or session.phase not in ("listening", "confirming"):
                    continue
                paths.setdefault((outcome.flow.name, listen.node), (at, number, inputs))
                key = (outcome.flow.name, listen.node, session.phase, tuple(sorted(session.slots.items())),
                       session.no_input, session.no_match)
                if key in seen or len(inputs) > 12:
                    continue
                seen.add(key)
                node = outcome.flow.nodes[listen.node]
                for kind, value in _inputs(outcome.flow, node, session.phase):
                    nxt = advance(library, session, _event(kind, value, at), not_found)
                    queue.append((nxt, (*inputs, (kind, value))))
    found = []
    for flow in library.flows.values():
        for node_id, node in sorted(flow.nodes.items()):
            if node.listens:
                at, number, inputs = paths.get((flow.name, node_id), (OPEN, "", None))
                found.append((flow.name, node_id, at, number, inputs))
    return found


def drive(call: Caller, inputs: Iterable[tuple[str, str]]) -> None:
    for kind, value in inputs:
        if kind == "press":
            call.press(value)
        elif kind == "say":
            call.say(value)
        else:
            call.silence()
