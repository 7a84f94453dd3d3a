"""The agent console in headless Chromium with warm transfer on (TWILIO_ACCOUNT_SID set):
an agent whose phone is already playing the whisper clicks Accept, and the phone joins
the caller; the console and the phone agree. Twilio's REST API is mocked with
``responses``; the app is served over HTTP on 127.0.0.1, the callers are the emulator."""
from __future__ import annotations

import os
import threading

import pytest
import responses
from handoff_line import PASSWORD, TOKEN, call_updates_ok, created_legs, leg_created, make_app, settled, updates
from werkzeug.serving import make_server

from ivr.testing import Caller, HttpTransport
from ivr.web.services import services

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
    later.app = make_app(tmp_path, warm=True, public=base)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield later.app, base
    server.shutdown()
    thread.join(5)


@pytest.fixture()
def api(served):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(served[1])  # the emulated callers reach the app over real HTTP
        yield rsps


def test_accept_on_the_console_while_the_phone_plays_the_whisper_joins_the_phone(served, api):
    app, base = served
    assert services(app).warm is not None  # warm transfer: TWILIO_ACCOUNT_SID is set
    leg_created(api, ["CAsam"])
    call_updates_ok(api)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_context().new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(base + "/console/")
        page.fill("input[name=name]", "sam")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/console/")

        call = Caller(HttpTransport(base), auth_token=TOKEN, public_url=base)
        call.dial()
        call.press("3")  # support: client:sam first
        settled(app)
        assert call.dial.conference == f"ivr-{call.call_sid}"
        [leg] = created_legs(api)
        whisper = leg["Url"][0]
        sam = Caller(HttpTransport(base), auth_token=TOKEN, public_url=base, caller="+15005550006",
                     to="client:sam", status_path=None)
        sam.dial(path=whisper[len(base):])
        assert sam.heard("press 1")

        card = page.locator(f"#section-waiting #call-{call.call_sid}")
        card.wait_for(timeout=10_000)
        card.locator("button[value=accept]").click()
        page.locator(f"#section-connected #call-{call.call_sid}").wait_for(timeout=10_000)
        settled(app)
        [(url, body)] = updates(api)
        assert url.endswith("/Calls/CAsam.json") and "/twilio/agent-join" in body["Url"][0]
        sam.update(body["Url"][0])  # Twilio carries the redirect out: the phone leaves the whisper
        assert sam.dial.conference == f"ivr-{call.call_sid}" and not sam.errors and not call.errors
        assert not errors, errors
        browser.close()
