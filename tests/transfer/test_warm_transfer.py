"""Warm transfer through the REST API, both legs played by the caller emulator.

Twilio's REST API is mocked with ``responses`` (the only part we cannot reach); the app,
the engine, the store and the twilio SDK are real. When the app creates an agent leg,
the test plays Twilio: it opens the leg's whisper URL as a new call (the agent), and
posts the leg's status callback when the agent passes or does not answer.

The app talks to the REST API off the webhooks' threads (its background worker), so the
tests wait for that work (``settled``) before they look at what was sent to Twilio.
"""
from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
import responses

from ivr import create_app
from ivr.telephony import crm
from ivr.testing import Caller, FlaskTransport
from ivr.web.live import LiveCall
from ivr.web.services import services

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tok-warm"
ACCOUNT = "AC" + "2" * 32
PUBLIC = "https://ivr.example.com"
CALLS = re.compile(rf"https://api\.twilio\.com/2010-04-01/Accounts/{ACCOUNT}/Calls\.json")
CALL_UPDATE = re.compile(rf"https://api\.twilio\.com/2010-04-01/Accounts/{ACCOUNT}/Calls/CA\w+\.json")
OPEN = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday, 10:00 in New York: the line is open


def make_app(tmp_path, flows_dir=ROOT / "call_flows"):
    app = create_app({"TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": ACCOUNT, "IVR_PUBLIC_URL": PUBLIC,
                      "IVR_VAR_DIR": str(tmp_path / "var"), "IVR_STORE": f"sqlite:///{tmp_path}/calls.sqlite3", "IVR_FLOWS_DIR": str(flows_dir),
                      "IVR_AUDIO_DIR": str(ROOT / "audio"), "IVR_STREAM_SPEECH": "false"})
    services(app).clock = lambda: OPEN
    services(app).warm.rest.sleep = lambda s: None
    return app


def settled(app):
    """Wait until the app's REST work (agent legs, cancels, redirects) is done."""
    assert services(app).background.wait_idle(20), "the REST work did not finish"


def created_legs(api):
    return [parse_qs(c.request.body) for c in api.calls if CALLS.fullmatch(c.request.url.split("?")[0])]


def updates(api):
    return [(c.request.url, parse_qs(c.request.body)) for c in api.calls
            if CALL_UPDATE.fullmatch(c.request.url.split("?")[0])]


def leg_created(api, sids):
    """Answer calls.create like Twilio: 201 with a new call sid each time."""
    counter = iter(sids)

    def reply(request):
        return 201, {}, json.dumps({"sid": next(counter), "status": "queued"})

    api.add_callback(responses.POST, CALLS, callback=reply, content_type="application/json")


def caller_asks_for_a_person(app, wait=True):
    call = Caller(FlaskTransport(app), auth_token=TOKEN, public_url=PUBLIC)
    call.dial()
    call.press("1")
    call.say("one two three four five six")
    call.press("0")
    if wait:
        settled(app)
    return call


def agent(app, leg: dict, target: str):
    """Twilio answering the agent leg the app created: fetch its whisper URL."""
    url = leg["Url"][0]
    path = urlsplit(url).path + "?" + urlsplit(url).query
    agent = Caller(FlaskTransport(app), auth_token=TOKEN, public_url=PUBLIC, caller="+15005550006", to=target,
                   status_path=None)
    agent.dial(path=path)
    return agent


def leg_status(app, leg: dict, status: str):
    url = leg["StatusCallback"][0]
    path = urlsplit(url).path + "?" + urlsplit(url).query
    poster = Caller(FlaskTransport(app), auth_token=TOKEN, public_url=PUBLIC, status_path=None)
    reply = poster.post(path, CallStatus=status, To=leg["To"][0])
    settled(app)
    return reply


def session_of(app, call):
    return services(app).store.load(call.params["CallSid"]).data["session"]


def test_agent_hears_the_summary_accepts_and_joins_the_callers_conference(tmp_path, api):
    app = make_app(tmp_path)
    leg_created(api, ["CAagent1"])
    call = caller_asks_for_a_person(app)
    assert call.heard("connect you"), call.transcript
    assert call.dial.conference == f"ivr-{call.params['CallSid']}"
    assert call.heard_ever("thanks for holding")  # the conference's waitUrl was fetched
    [leg] = created_legs(api)
    assert leg["To"] == ["client:alice"] and leg["From"] == ["+15005550006"]
    assert "/twilio/whisper" in leg["Url"][0] and "/twilio/agent-status" in leg["StatusCallback"][0]

    alice = agent(app, leg, "client:alice")
    assert alice.heard("ending in 0 0 0 0") and alice.heard("order status") and alice.heard("asked for a person")
    alice.press("1")
    assert alice.dial.conference == f"ivr-{call.params['CallSid']}"  # the agent joins the caller
    assert session_of(app, call)["phase"] == "connected"

    call.dial_result("completed", duration=60)  # the agent hung up: the conference ended
    assert call.heard("please rate this call")  # the caller is still on the line: the survey
    call.press("5")
    call.record(duration=2)
    assert call.state == "ended" and not call.errors and not alice.errors
    assert services(app).store.list_calls(active=False)[0]["outcome"] == "transferred"


def test_first_agent_passes_the_second_takes_the_call(tmp_path, api):
    app = make_app(tmp_path)
    leg_created(api, ["CAagent1", "CAagent2"])
    call = caller_asks_for_a_person(app)
    alice = agent(app, created_legs(api)[0], "client:alice")
    alice.press("2")
    assert alice.heard("passing") and alice.state == "ended"
    leg_status(app, created_legs(api)[0], "completed")  # Twilio: alice's leg is over
    second = created_legs(api)[1]
    assert second["To"] == ["+15005550010"]
    bob = agent(app, second, "+15005550010")
    bob.press("1")
    assert session_of(app, call)["phase"] == "connected"
    assert [t["status"] for t in session_of(app, call)["transfers"]] == ["declined", "answered"]
    assert call.state == "dialing"  # the caller never left the conference: never dropped


def test_nobody_answers_the_caller_is_moved_to_the_queue(tmp_path, api):
    app = make_app(tmp_path)
    leg_created(api, ["CAagent1", "CAagent2"])
    api.add(responses.POST, CALL_UPDATE, json={"sid": "CA0", "status": "in-progress"}, status=200)
    call = caller_asks_for_a_person(app)
    leg_status(app, created_legs(api)[0], "no-answer")
    leg_status(app, created_legs(api)[1], "busy")
    [(url, redirect)] = updates(api)
    assert call.params["CallSid"] in url and "/twilio/resume" in redirect["Url"][0]
    call.update(redirect["Url"][0])  # Twilio follows the redirect
    assert call.state == "queued" and call.queue.name == "support", call.transcript
    assert call.heard("number") or call.heard_ever("in line")


def test_caller_hanging_up_on_hold_cancels_the_agent_leg(tmp_path, api):
    app = make_app(tmp_path)
    leg_created(api, ["CAagentX"])
    api.add(responses.POST, CALL_UPDATE, json={"sid": "CAagentX", "status": "canceled"}, status=200)
    call = caller_asks_for_a_person(app)
    call.hang_up()
    settled(app)
    [(url, body)] = updates(api)
    assert url.endswith("/Calls/CAagentX.json") and body["Status"] == ["canceled"]
    assert session_of(app, call)["outcome"] == "abandoned_on_hold"


def test_twilio_api_500_then_success_is_retried(tmp_path, api):
    app = make_app(tmp_path)
    api.add(responses.POST, CALLS, json={"message": "oops", "status": 500}, status=500)
    api.add(responses.POST, CALLS, json={"sid": "CAagent1", "status": "queued"}, status=201)
    call = caller_asks_for_a_person(app)
    assert len(created_legs(api)) == 2 and all(leg["To"] == ["client:alice"] for leg in created_legs(api))
    assert call.dial.conference and call.state == "dialing"


def test_twilio_api_down_the_caller_holds_then_goes_to_the_fallback(tmp_path, api):
    app = make_app(tmp_path)
    api.add(responses.POST, CALLS, json={"message": "down", "status": 503}, status=503)
    api.add(responses.POST, CALL_UPDATE, json={"sid": "CA0", "status": "in-progress"}, status=200)
    call = caller_asks_for_a_person(app)
    assert call.dial.conference  # the caller held while the legs were tried
    # client:alice and the number both failed (3 tries each): the queue takes the caller
    assert len(created_legs(api)) == 6
    [(url, redirect)] = updates(api)
    assert call.params["CallSid"] in url and "/twilio/resume" in redirect["Url"][0]
    call.update(redirect["Url"][0])
    assert call.state == "queued" and not call.errors, call.transcript


def crm_flow(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_SECRET", "s3cret")
    flows = tmp_path / "flows"
    flows.mkdir()
    text = (ROOT / "call_flows" / "acme-support.yaml").read_text()
    text = text.replace("escalation: {threshold: 0.7, mode: transfer}",
                        "escalation: {threshold: 0.7, mode: transfer}\n"
                        "crm: {url: \"https://crm.example.com/ivr\", secret_env: CRM_SECRET}")
    (flows / "acme-support.yaml").write_text(text)
    (flows / "acme-support-ko.yaml").write_text((ROOT / "call_flows" / "acme-support-ko.yaml").read_text())
    return flows


def test_context_record_reaches_whisper_console_and_crm_identically_and_signed(tmp_path, api, monkeypatch):
    app = make_app(tmp_path, crm_flow(tmp_path, monkeypatch))
    leg_created(api, ["CAagent1"])
    received = threading.Event()
    api.add_callback(responses.POST, "https://crm.example.com/ivr",
                     callback=lambda req: (received.set(), (200, {}, "ok"))[1])
    subscription = services(app).store.bus.subscribe("ivr.calls", timeout=2)
    call = Caller(FlaskTransport(app), auth_token=TOKEN, public_url=PUBLIC)
    call.dial()
    call.press("2")
    call.press("12345678")
    call.press("1234")  # the PIN: secret
    call.press("0")
    assert received.wait(5)
    request = next(c.request for c in api.calls if c.request.url.startswith("https://crm.example.com"))
    assert crm.verify("s3cret", request.body, request.headers["X-IVR-Signature"])
    assert not crm.verify("other", request.body, request.headers["X-IVR-Signature"])
    sent = json.loads(request.body)
    assert sent["slots"]["pin"] == "••••" and "1234" not in request.body.decode().replace("12345678", "")
    assert sent["verified"] is True and sent["path"][-1] == "front_desk"
    cards = [m for m in subscription if m.get("phase") == "transfer"]
    assert cards and cards[-1]["context"] == sent  # the console shows the same record
    alice = agent(app, created_legs(api)[0], "client:alice")
    assert alice.heard(cards[-1]["summary"])  # and the whisper speaks its summary
    assert "1234" not in " ".join(t for _, t in alice.transcript)


def test_crm_down_does_not_delay_the_call(tmp_path, api, monkeypatch):
    app = make_app(tmp_path, crm_flow(tmp_path, monkeypatch))
    leg_created(api, ["CAagent1"])
    release = threading.Event()
    seen = threading.Event()

    def slow_crm(request):
        seen.set()
        release.wait(10)
        return 503, {}, "down"

    api.add_callback(responses.POST, "https://crm.example.com/ivr", callback=slow_crm)
    services(app).warm.crm.sleep = lambda s: None
    call = caller_asks_for_a_person(app)
    # the caller already hears the hold prompt while the CRM is still hanging
    assert call.dial.conference and seen.wait(5) and not release.is_set()
    release.set()


def test_taken_on_the_console_the_agents_phone_joins_at_once(tmp_path, api):
    app = make_app(tmp_path)
    leg_created(api, ["CAagent1"])
    call = caller_asks_for_a_person(app)
    line = services(app).line
    assert line.agent_answer(call.params["CallSid"], "1", True, OPEN, by="client:alice") == "accepted"
    alice = agent(app, created_legs(api)[0], "client:alice")  # then the phone is picked up
    assert alice.dial.conference == f"ivr-{call.params['CallSid']}" and not alice.heard("press 1")


def test_passed_on_the_console_the_ringing_leg_is_stopped_and_the_next_agent_rung(tmp_path, api):
    app = make_app(tmp_path)
    leg_created(api, ["CAagent1", "CAagent2"])
    api.add(responses.POST, CALL_UPDATE, json={"sid": "CAagent1", "status": "canceled"}, status=200)
    call = caller_asks_for_a_person(app)
    line = services(app).line
    assert line.agent_answer(call.params["CallSid"], "1", False, OPEN, by="client:alice") == "declined"
    services(app).warm.stop_ringing(LiveCall.load(services(app).store, call.params["CallSid"]))  # as the console does
    settled(app)
    [(url, body)] = updates(api)
    assert url.endswith("/Calls/CAagent1.json") and body["Status"] == ["canceled"]
    leg_status(app, created_legs(api)[0], "canceled")  # Twilio reports the leg's end
    assert created_legs(api)[1]["To"] == ["+15005550010"]
    alice = agent(app, created_legs(api)[0], "client:alice")
    assert alice.state == "ended" and not alice.heard("press 1")


# -- the REST API is slow or failing: the caller's webhook never waits on it -----------

ANSWER_WITHIN = 2.0  # seconds: the caller's webhook answers while the REST API still hangs


def timed_press(call, keys: str) -> float:
    started = time.monotonic()
    call.press(keys)
    return time.monotonic() - started


def test_twilio_api_hanging_the_caller_holds_at_once_then_the_next_agent_is_rung(tmp_path, api):
    app = make_app(tmp_path)
    hanging = threading.Event()
    sids = iter(["CAagent2"])

    def create(request):
        if "client%3Aalice" in request.body:  # alice's leg: the API hangs, then the client gives up
            hanging.set()
            time.sleep(6)
            raise requests.ReadTimeout("read timed out")
        return 201, {}, json.dumps({"sid": next(sids), "status": "queued"})

    api.add_callback(responses.POST, CALLS, callback=create, content_type="application/json")
    services(app).warm.rest.tries = 1
    call = Caller(FlaskTransport(app), auth_token=TOKEN, public_url=PUBLIC)
    call.dial()
    call.press("1")
    call.say("one two three four five six")
    took = timed_press(call, "0")
    assert took < ANSWER_WITHIN, f"the caller waited {took:.1f}s for the REST API"
    assert call.heard("connect you") and call.dial.conference == f"ivr-{call.params['CallSid']}"
    assert hanging.wait(5) and len(created_legs(api)) == 0  # alice's leg is still being made

    settled(app)  # alice's leg failed after 6 s: the engine moved on to the next target
    assert [leg["To"] for leg in created_legs(api)] == [["client:alice"], ["+15005550010"]]
    assert [t["status"] for t in session_of(app, call)["transfers"]] == ["failed"]
    bob = agent(app, created_legs(api)[1], "+15005550010")
    bob.press("1")
    assert session_of(app, call)["phase"] == "connected"
    assert call.state == "dialing" and not call.errors  # held in the conference all along


def test_twilio_api_failing_the_caller_holds_at_once_then_is_moved_to_the_fallback(tmp_path, api):
    app = make_app(tmp_path)
    services(app).warm.rest.sleep = time.sleep  # real backoff between tries: the failure lands later
    api.add(responses.POST, CALLS, json={"message": "oops", "status": 500}, status=500)
    api.add(responses.POST, CALL_UPDATE, json={"sid": "CA0", "status": "in-progress"}, status=200)
    call = Caller(FlaskTransport(app), auth_token=TOKEN, public_url=PUBLIC)
    call.dial()
    call.press("1")
    call.say("one two three four five six")
    took = timed_press(call, "0")
    assert took < ANSWER_WITHIN, f"the caller waited {took:.1f}s for the REST API"
    assert call.dial.conference and call.heard_ever("thanks for holding")

    settled(app)  # every leg failed (3 tries each); the caller is redirected out of the conference
    assert [leg["To"] for leg in created_legs(api)] == [["client:alice"]] * 3 + [["+15005550010"]] * 3
    [(url, redirect)] = updates(api)
    assert url.endswith(f"/Calls/{call.params['CallSid']}.json") and "/twilio/resume" in redirect["Url"][0]
    call.update(redirect["Url"][0])  # Twilio follows the redirect
    assert call.state == "queued" and call.queue.name == "support" and not call.errors, call.transcript


def test_a_caller_who_hangs_up_while_the_agent_leg_is_made_does_not_leave_it_ringing(tmp_path, api):
    app = make_app(tmp_path)
    made = threading.Event()
    hung_up = threading.Event()

    def create(request):
        made.set()
        hung_up.wait(5)  # the caller hangs up while Twilio is still making the leg
        return 201, {}, json.dumps({"sid": "CAagentLate", "status": "queued"})

    api.add_callback(responses.POST, CALLS, callback=create, content_type="application/json")
    api.add(responses.POST, CALL_UPDATE, json={"sid": "CAagentLate", "status": "canceled"}, status=200)
    call = caller_asks_for_a_person(app, wait=False)
    assert made.wait(5)
    call.hang_up()
    hung_up.set()
    settled(app)
    [(url, body)] = updates(api)
    assert url.endswith("/Calls/CAagentLate.json") and body["Status"] == ["canceled"]


def test_when_the_transfer_breaks_down_the_caller_hears_an_apology_and_a_person_is_dialled(tmp_path, api,
                                                                                          monkeypatch):
    app = make_app(tmp_path)
    api.add(responses.POST, CALLS, json={"message": "down", "status": 503}, status=503)
    api.add(responses.POST, CALL_UPDATE, json={"sid": "CA0", "status": "in-progress"}, status=200)
    line = services(app).line
    real_apply = line.apply

    def store_down(call_sid, event, **kwargs):
        if type(event).__name__ == "TransferResult":
            raise RuntimeError("the store cannot be reached")
        return real_apply(call_sid, event, **kwargs)

    monkeypatch.setattr(line, "apply", store_down)
    call = caller_asks_for_a_person(app)  # alice's leg fails; telling the engine fails too
    [(url, redirect)] = updates(api)
    assert url.endswith(f"/Calls/{call.params['CallSid']}.json") and "/twilio/resume" in redirect["Url"][0]
    call.update(redirect["Url"][0])  # Twilio follows the redirect out of the conference
    assert call.heard("Sorry, something went wrong") and call.dial.targets, call.transcript
    assert not call.dial.conference and not call.errors
