"""Skill routing with several agents signed in to the console in headless Chromium:
everyone's presence on every board, an agent going away is skipped, the longest idle
available agent is offered the call first and sees Accept / Pass, a pass offers it to
the next, the agent who takes it is busy while on the call and available when it ends.
Twilio's REST API is mocked with ``responses``; the callers are the emulator over HTTP."""
from __future__ import annotations

import os
import threading
from urllib.parse import urlsplit

import pytest
import responses
from handoff_line import PASSWORD, TOKEN, Clock, call_updates_ok, created_legs, leg_created, settled, updates
from skills_line import make_app, presence, rung
from werkzeug.serving import make_server

from ivr.testing import Caller, HttpTransport

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync"]
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
                                reason=f"{CHROMIUM} is missing: ./dev test installs it (apt-get install chromium)")
sync_api = pytest.importorskip("playwright.sync_api")


class Later:
    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture()
def served(tmp_path):
    later = Later()
    server = make_server("127.0.0.1", 0, later, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    clock = Clock()
    later.app = make_app(tmp_path, clock, public=base)
    later.app.config["IVR_CONSOLE_HEARTBEAT"] = 1.0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield later.app, base, clock
    server.shutdown()
    thread.join(5)


@pytest.fixture()
def api(served):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(served[1])  # the emulated callers reach the app over real HTTP
        yield rsps


def leg_ends(app, base: str, leg: dict, sid: str, status: str) -> None:
    """Twilio's status callback for the agent leg ``sid``."""
    url = urlsplit(leg["StatusCallback"][0])
    poster = Caller(HttpTransport(base), auth_token=TOKEN, public_url=base, status_path=None, call_sid=sid)
    poster.post(url.path + "?" + url.query, CallStatus=status, To=leg["To"][0])
    settled(app)


def board_of(browser, base: str, name: str):
    page = browser.new_context().new_page()
    page.goto(base + "/console/")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/console/")
    page.locator("#live[data-state=live]").wait_for(timeout=10_000)
    return page


def shows(page, name: str, state: str) -> None:
    page.locator(f"#agent-{name}[data-state={state}]").wait_for(timeout=10_000)


def test_agents_on_the_console_longest_idle_first_pass_moves_on_away_skipped_busy_on_the_call(served, api):
    app, base, clock = served
    leg_created(api, ["CAleg1", "CAleg2"])
    call_updates_ok(api)
    from datetime import timedelta

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        errors: list[str] = []
        boards = {}
        for name in ("sam", "jun", "minji"):  # sam idle longest, then jun, then minji
            boards[name] = board_of(browser, base, name)
            boards[name].on("pageerror", lambda exc: errors.append(str(exc)))
            clock.at += timedelta(seconds=5)
        for page in boards.values():  # everyone's presence on every board; ann never signed in
            for name in ("sam", "jun", "minji"):
                shows(page, name, "available")
            shows(page, "ann", "away")

        boards["sam"].click("form.presence-form button[value=away]")  # sam steps away
        boards["sam"].locator("#my-presence", has_text="Away").wait_for(timeout=10_000)
        shows(boards["minji"], "sam", "away")  # seen on the other boards at once

        call = Caller(HttpTransport(base), auth_token=TOKEN, public_url=base)
        call.dial()
        call.press("3")  # anyone: sam is away, jun is the longest idle of the rest
        settled(app)
        assert rung(api) == ["client:jun"]
        card = boards["jun"].locator(f"#section-waiting #call-{call.call_sid}")
        card.locator("button[value=pass]").wait_for(timeout=10_000)
        assert boards["minji"].locator(f"#call-{call.call_sid} button").count() == 0  # not offered to her
        boards["minji"].locator(f"#call-{call.call_sid} .ringing", has_text="Jun").wait_for(timeout=10_000)
        shows(boards["minji"], "jun", "busy")

        card.locator("button[value=pass]").click()  # jun passes: his phone stops ringing, minji is next
        boards["jun"].locator("#notice", has_text="You passed").wait_for(timeout=10_000)
        settled(app)
        stopped = [body["Status"] for url, body in updates(api) if url.endswith("/Calls/CAleg1.json")]
        assert stopped[:1] == [["canceled"]], updates(api)
        assert not [url for url, _ in updates(api) if call.call_sid in url], updates(api)  # the caller holds on
        leg_ends(app, base, created_legs(api)[0], "CAleg1", "canceled")
        assert rung(api) == ["client:jun", "client:minji"]
        mine = boards["minji"].locator(f"#section-waiting #call-{call.call_sid} button[value=accept]")
        mine.wait_for(timeout=10_000)
        shows(boards["sam"], "jun", "available")
        mine.click()
        boards["minji"].locator(f"#section-connected #call-{call.call_sid}").wait_for(timeout=10_000)
        shows(boards["jun"], "minji", "busy")  # busy while on the call, on every board
        boards["minji"].locator("#my-presence", has_text="Busy").wait_for(timeout=10_000)
        assert presence(app) == {"minji": "busy", "jun": "available", "sam": "away", "ann": "away"}

        minji = Caller(HttpTransport(base), auth_token=TOKEN, public_url=base, caller="+15005550006",
                       to="client:minji", status_path=None, call_sid="CAleg2")  # Twilio asks as her leg
        whisper = urlsplit(created_legs(api)[1]["Url"][0])
        minji.dial(path=whisper.path + "?" + whisper.query)  # her phone picks up: taken already, so she joins
        assert minji.dial.conference == f"ivr-{call.call_sid}"

        call.hang_up()
        settled(app)
        shows(boards["jun"], "minji", "available")  # the call is over: free again
        boards["minji"].locator("#my-presence", has_text="Available").wait_for(timeout=10_000)
        assert not errors, errors
        browser.close()
