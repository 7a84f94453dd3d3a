"""A small support line with a survey and a wrap-up list, built like production (signed
webhooks, real SQLite store, call records at a URL of the test's choosing, the twilio
SDK with its HTTP mocked by ``responses``), and callers played by the caller emulator.

    app = make_app(tmp_path, records_url, warm=True)
    call = caller(app); call.dial(); call.press("1")      # self-service, then the survey
    records = records_of(app)                               # after the background wrote them
"""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import responses
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from ivr import create_app
from ivr.records import open_records
from ivr.records.schema import calls
from ivr.testing import Caller, FlaskTransport, hand_clock
from ivr.web.services import services

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tok-survey"
ACCOUNT = "AC" + "5" * 32
PUBLIC = "https://ivr.example.com"
CALLS = re.compile(rf"https://api\.twilio\.com/2010-04-01/Accounts/{ACCOUNT}/Calls\.json")
CALL_UPDATE = re.compile(rf"https://api\.twilio\.com/2010-04-01/Accounts/{ACCOUNT}/Calls/CA\w+\.json")
AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday
PASSWORD = "sam-correct-horse"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

FLOW = """
flow: survey-line
numbers: ["+15005550006"]
voice: Polly.Joanna
operator: {to: desk}
retry: {no_input: 1, no_match: 1, then: desk}
survey:
  question: "Please rate this call: press 1 for poor, up to 5 for excellent."
  retry: "Please press a key from 1 to 5."
  comment: "After the tone, tell us in a few words how we could do better, then press pound."
  thanks: "Thank you for your feedback."
wrap_up: [order question, complaint, resolved]
start: main
nodes:
  main:
    menu:
      prompt: "Press 1 for opening hours, 2 for support, 3 to leave a message."
      options:
        - {keys: "1", say: [opening hours], go: hours}
        - {keys: "2", say: [support], go: support}
        - {keys: "3", say: [message], go: leave_message}
  hours:
    say: "We are open from 9 to 5."
    go: goodbye
  goodbye:
    hangup: "Thanks for calling. Goodbye."
  support:
    transfer: {to: [client:sam, client:ann], reason: "Support question", fallback: leave_message}
  desk:
    transfer: {to: [client:ann], reason: "Asked for a person", fallback: leave_message}
  leave_message:
    voicemail: {prompt: "Please leave a message after the tone.", max_length: 45}
"""


class Clock:
    """The app's clock: moves ``step`` seconds each time it is read, so calls take time."""

    def __init__(self, at: datetime = AT, step: float = 1.0) -> None:
        self.at, self.step = at, step

    def __call__(self) -> datetime:
        self.at += timedelta(seconds=self.step)
        return self.at


def make_app(tmp_path: Path, records_url: str, warm: bool = True, flow: str = FLOW, clock: Clock | None = None,
             public: str = PUBLIC):
    flows = tmp_path / "flows"
    flows.mkdir(exist_ok=True)
    (flows / "line.yaml").write_text(flow)
    agents = tmp_path / "agents.yaml"
    agents.write_text("agents:\n" + "".join(
        f"  - name: {name}\n    display_name: {name.title()}\n"
        f"    password_hash: \"{generate_password_hash(PASSWORD)}\"\n    targets: [\"client:{name}\"]\n"
        for name in ("sam", "ann", "eve")))
    config = {"TWILIO_AUTH_TOKEN": TOKEN, "IVR_PUBLIC_URL": public,
              "IVR_STORE": f"sqlite:///{tmp_path}/calls.sqlite3", "IVR_FLOWS_DIR": str(flows),
              "IVR_AUDIO_DIR": str(ROOT / "audio"), "IVR_STREAM_SPEECH": "false", "IVR_SECRET_KEY": "k",
              "IVR_AGENTS_FILE": str(agents), "IVR_RECORDS_URL": records_url, "IVR_VAR_DIR": str(tmp_path / "var")}
    if warm:
        config["TWILIO_ACCOUNT_SID"] = ACCOUNT
    app = create_app(config)
    hand_clock(app, clock or Clock())  # the hold sweep, on real time, is left to the tests
    if warm:
        services(app).warm.rest.sleep = lambda s: None
    return app


def caller(app, **kwargs) -> Caller:
    call = Caller(FlaskTransport(app), auth_token=TOKEN, public_url=PUBLIC, **kwargs)
    call.dial()
    return call


def settled(app) -> None:
    assert services(app).background.wait_idle(20), "the background work did not finish"


def records_of(app):
    settled(app)
    return open_records(services(app).settings.records_url)


def record_row(app, call: Caller) -> dict:
    records = records_of(app)
    try:
        with records.engine.connect() as conn:
            row = conn.execute(select(calls).where(calls.c.call_sid == call.call_sid)).mappings().one()
        return dict(row)
    finally:
        records.close()


def rest_answers(api, legs: list[str]) -> None:
    """Twilio's REST API: calls.create makes the given agent legs; calls(sid).update works."""
    counter = iter(legs)

    def reply(request):
        return 201, {}, json.dumps({"sid": next(counter), "status": "queued"})

    api.add_callback(responses.POST, CALLS, callback=reply, content_type="application/json")
    api.add(responses.POST, CALL_UPDATE, json={"sid": "CA0", "status": "completed"}, status=200)


def created_legs(api) -> list[dict]:
    return [parse_qs(c.request.body) for c in api.calls if CALLS.fullmatch(c.request.url.split("?")[0])]


def updates(api) -> list[tuple[str, dict]]:
    return [(c.request.url, parse_qs(c.request.body)) for c in api.calls
            if CALL_UPDATE.fullmatch(c.request.url.split("?")[0])]


def _path(url: str) -> str:
    return urlsplit(url).path + "?" + urlsplit(url).query


def agent_answers(app, leg: dict) -> Caller:
    """Twilio answering an agent leg: its whisper URL fetched as a new call."""
    agent = Caller(FlaskTransport(app), auth_token=TOKEN, public_url=PUBLIC, caller="+15005550006",
                   to=leg["To"][0], status_path=None)
    agent.dial(path=_path(leg["Url"][0]))
    return agent


def leg_status(app, leg: dict, status: str) -> None:
    poster = Caller(FlaskTransport(app), auth_token=TOKEN, public_url=PUBLIC, status_path=None)
    poster.post(_path(leg["StatusCallback"][0]), CallStatus=status, To=leg["To"][0])
    settled(app)


def talk_to_an_agent(app, api, call: Caller, passes: int = 0) -> Caller:
    """The caller holds (warm transfer): ``passes`` agents pass, the next one takes the call
    and joins the caller's conference. Returns the agent's leg."""
    settled(app)
    for i in range(passes):
        leg = created_legs(api)[i]
        agent = agent_answers(app, leg)
        agent.press("2")
        leg_status(app, leg, "completed")
    leg = created_legs(api)[passes]
    agent = agent_answers(app, leg)
    agent.press("1")
    assert agent.dial.conference == f"ivr-{call.call_sid}", agent.transcript
    return agent


def console(app, name: str):
    """A console session (Flask test client) signed in as ``name``."""
    client = app.test_client()
    page = client.get("/console/sign-in").get_data(as_text=True)
    reply = client.post("/console/sign-in", data={"name": name, "password": PASSWORD,
                                                  "csrf_token": CSRF.search(page).group(1)})
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return client


def wrap_up(client, call_sid: str, code: str, needed: str, token: str | None = None):
    """The console's wrap-up form, posted."""
    page = client.get(f"/console/calls/{call_sid}").get_data(as_text=True)
    found = CSRF.search(page)
    csrf = token if token is not None else (found.group(1) if found else "")
    return client.post(f"/console/calls/{call_sid}/wrap-up",
                       data={"code": code, "needed_person": needed, "csrf_token": csrf})
