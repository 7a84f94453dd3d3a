"""The worklists in a real headless browser (Playwright driving Debian's chromium): a
caller leaves a message after hours through the caller emulator over HTTP; the agent
plays it through the line's own route (Twilio's recording API mocked with ``responses``
in the server's process), marks it done, and sees overdue callback promises first and
in red."""
from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import responses
from console_support import PASSWORDS, Clock, caller, make_app
from werkzeug.serving import make_server

from ivr.records.worklists import Worklists
from ivr.testing import HttpTransport
from ivr.web.services import services

PLAYWRIGHT_OWN = sorted(Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
                        .glob("chromium-*/chrome-linux*/chrome"))
CHROMIUM = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") or not PLAYWRIGHT_OWN else str(PLAYWRIGHT_OWN[-1])
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync"]
ACCOUNT = "AC" + "7" * 32
CLOSED = datetime(2026, 3, 8, 15, 0, tzinfo=timezone.utc)  # a Sunday: the demo line is closed

import playwright.sync_api as sync_api  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
                                reason=f"{CHROMIUM} is missing: ./dev test installs it (apt-get install chromium)")


class Later:
    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture
def served(tmp_path):
    later = Later()
    server = make_server("127.0.0.1", 0, later, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app = make_app(tmp_path, Clock(CLOSED, step=1.1), public_url=base, IVR_VAR_DIR=str(tmp_path / "var"),
                   TWILIO_ACCOUNT_SID=ACCOUNT)
    later.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as twilio:
        twilio.add_passthru(base)  # the emulator's own requests to the line
        yield app, base, twilio
    server.shutdown()
    thread.join(5)
    services(app).store.close()


def test_an_agent_plays_a_message_marks_it_done_and_sees_overdue_promises_first(served):
    app, base, twilio = served
    recording = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE0000aaaa1111bbbb2222cccc3333dddd"
    call = caller(app, HttpTransport(base), public_url=base, caller="+15557654321")
    call.dial()
    assert call.heard("closed right now"), call.last_heard
    call.press("2")
    call.record(url=recording, duration=9)
    if call.state != "ended":
        call.hang_up()
    assert services(app).background.wait_idle(30)
    fetched = twilio.add(responses.GET, recording + ".mp3", body=b"ID3\x03\x00fake", content_type="audio/mpeg")

    worklists = Worklists(services(app).keeper.records.engine)  # two promises, one of them overdue by now
    now = services(app).clock.at
    for sid, number, due in (("CAsoon", "+15550001111", now + timedelta(hours=1)),
                             ("CAlate", "+15550002222", now - timedelta(minutes=30))):
        worklists.add({"kind": "callback", "call_sid": sid, "flow": "acme-support", "caller": number,
                       "line_number": "+15005550006", "created_at": now - timedelta(hours=2), "due_at": due,
                       "recording_url": None, "duration_s": None})

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(base + "/console/work/voicemails")
            page.fill("input[name=name]", "alice")
            page.fill("input[name=password]", PASSWORDS["alice"])
            page.click("button[type=submit]")
            page.wait_for_url(base + "/console/work/voicemails")
            item = page.locator("li.item").first
            assert "+15557654321" in item.inner_text() and "9 s" in item.inner_text()
            src = item.locator("audio").get_attribute("src")
            assert src.startswith("/console/work/voicemails/") and "api.twilio.com" not in page.content()
            heard = page.evaluate("src => fetch(src).then(r => r.status + ' ' + r.headers.get('content-type'))", src)
            assert heard == "200 audio/mpeg"
            assert fetched.calls[0].request.headers["Authorization"].startswith("Basic ")
            item.locator("button", has_text="Mark done").click()
            page.wait_for_url(base + "/console/work/voicemails*")
            assert "Marked done" in page.inner_text("main") and page.locator("li.item").count() == 0

            page.click("nav >> text=Callbacks")
            page.wait_for_url(base + "/console/work/callbacks")
            rows = page.locator("tr.item")
            assert rows.count() == 2
            first, second = rows.nth(0), rows.nth(1)
            assert "+15550002222" in first.inner_text() and "overdue" in first.inner_text()
            assert first.evaluate("r => getComputedStyle(r).backgroundColor") == "rgb(253, 234, 234)"
            assert second.evaluate("r => getComputedStyle(r).backgroundColor") != "rgb(253, 234, 234)"
            assert "1 overdue" in page.inner_text(".tabs")
            assert first.locator("button", has_text="Call back").count() == 1
            assert not errors, errors
        finally:
            browser.close()
