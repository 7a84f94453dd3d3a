"""A small line for the hand-off tests: one transfer of each shape and each fallback,
with the app built like production (signed webhooks, real SQLite, REST mocked)."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import responses
from werkzeug.security import generate_password_hash

from ivr import create_app
from ivr.testing import Caller, FlaskTransport, hand_clock
from ivr.web.services import services

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tok-handoff"
ACCOUNT = "AC" + "3" * 32
PUBLIC = "https://ivr.example.com"
CALLS = re.compile(rf"https://api\.twilio\.com/2010-04-01/Accounts/{ACCOUNT}/Calls\.json")
CALL_UPDATE = re.compile(rf"https://api\.twilio\.com/2010-04-01/Accounts/{ACCOUNT}/Calls/CA\w+\.json")
AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)

FLOW = """
flow: handoff
numbers: ["+15005550006"]
voice: Polly.Joanna
operator: {to: desk}
max_hold: 120
start: main
nodes:
  main:
    menu:
      prompt: "Press 1 for sales, 2 for billing, 3 for support."
      options:
        - {keys: "1", go: sales}
        - {keys: "2", go: billing}
        - {keys: "3", go: support}
  sales:
    transfer: {to: ["+15005550010"], whisper: false, reason: "Sales question", fallback: leave_message}
  billing:
    transfer: {to: [client:ann, "+15005550011"], reason: "Billing question", fallback: call_back}
  support:
    transfer: {to: [client:sam, client:ann], reason: "Support question", fallback: leave_message}
  desk:
    transfer: {to: [client:ann], reason: "Asked for a person", fallback: leave_message}
  leave_message:
    voicemail: {prompt: "Please leave a message for our team after the tone.", max_length: 45}
  call_back:
    callback: {prompt: "We will call you back at your number within the hour.", within_minutes: 60}
"""


class Clock:
    def __init__(self, at: datetime = AT) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


PASSWORD = "sam-correct-horse"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(tmp_path: Path, warm: bool, flow: str = FLOW, clock: Clock | None = None, public: str = PUBLIC,
             store: str = ""):
    flows = tmp_path / "flows"
    flows.mkdir(exist_ok=True)
    (flows / "handoff.yaml").write_text(flow)
    agents = tmp_path / "agents.yaml"
    agents.write_text("agents:\n" + "".join(
        f"  - name: {name}\n    display_name: {name.title()}\n"
        f"    password_hash: \"{generate_password_hash(PASSWORD)}\"\n    targets: [\"client:{name}\"]\n"
        for name in ("sam", "ann")))
    return serve(tmp_path, flows, agents, warm=warm, clock=clock, public=public, store=store)


def serve(tmp_path: Path, flows: Path, agents: Path, *, warm: bool, clock: Clock | None = None, public: str = PUBLIC,
          store: str = ""):
    """The line of ``flows`` with the console's agents in ``agents``, on a store and records
    of the test's own; ``warm``: warm transfer through the (mocked) REST API, retried at once."""
    config = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_PUBLIC_URL": public,
              "IVR_VAR_DIR": str(tmp_path / "var"), "IVR_STORE": store or f"sqlite:///{tmp_path}/calls.sqlite3",
              "IVR_FLOWS_DIR": str(flows), "IVR_AUDIO_DIR": str(ROOT / "audio"), "IVR_STREAM_SPEECH": "false",
              "IVR_SECRET_KEY": "k", "IVR_AGENTS_FILE": str(agents)}
    if warm:
        config["TWILIO_ACCOUNT_SID"] = ACCOUNT
    app = create_app(config)
    hand_clock(app, clock or Clock())  # the hold sweep, on real time, is left to the tests
    if warm:
        services(app).warm.rest.sleep = lambda s: None
    return app


def caller(app, **kwargs) -> Caller:
    return Caller(FlaskTransport(app), auth_token=TOKEN, public_url=PUBLIC, **kwargs)


def settled(app) -> None:
    assert services(app).background.wait_idle(20), "the REST work did not finish"


def leg_created(api, sids) -> None:
    counter = iter(sids)

    def reply(request):
        return 201, {}, json.dumps({"sid": next(counter), "status": "queued"})

    api.add_callback(responses.POST, CALLS, callback=reply, content_type="application/json")


def call_updates_ok(api) -> None:
    api.add(responses.POST, CALL_UPDATE, json={"sid": "CA0", "status": "in-progress"}, status=200)


def created_legs(api) -> list[dict]:
    return [parse_qs(c.request.body) for c in api.calls if CALLS.fullmatch(c.request.url.split("?")[0])]


def updates(api) -> list[tuple[str, dict]]:
    return [(c.request.url, parse_qs(c.request.body)) for c in api.calls
            if CALL_UPDATE.fullmatch(c.request.url.split("?")[0])]


def _path(url: str) -> str:
    return urlsplit(url).path + "?" + urlsplit(url).query


def agent_answers(app, leg: dict) -> Caller:
    """Twilio answering the agent leg: its whisper URL fetched as a new call."""
    agent = caller(app, caller="+15005550006", to=leg["To"][0], status_path=None)
    agent.dial(path=_path(leg["Url"][0]))
    return agent


def leg_status(app, leg: dict, status: str) -> None:
    poster = caller(app, status_path=None)
    poster.post(_path(leg["StatusCallback"][0]), CallStatus=status, To=leg["To"][0])
    settled(app)


def session_of(app, call: Caller) -> dict:
    return services(app).store.load(call.call_sid).data["session"]


def console(app, name: str):
    """A browser-less console session signed in as ``name``: ``answer(call_sid, attempt,
    action)`` posts the Accept / Pass button."""
    client = app.test_client()
    page = client.get("/console/sign-in").get_data(as_text=True)
    reply = client.post("/console/sign-in", data={"name": name, "password": PASSWORD,
                                                  "csrf_token": CSRF.search(page).group(1)})
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return client


def console_answer(client, call_sid: str, attempt: int, action: str) -> dict:
    token = CSRF.search(client.get("/console/").get_data(as_text=True)).group(1)
    reply = client.post(f"/console/calls/{call_sid}/answer", data={"action": action, "attempt": str(attempt),
                                                                   "csrf_token": token},
                        headers={"Accept": "application/json"})
    return reply.get_json()
