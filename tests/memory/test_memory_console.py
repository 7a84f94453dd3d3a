"""The agent sees the caller's history: the console's call page, in a real headless
browser (Playwright driving Debian's chromium), lists the caller's earlier calls (date,
topic, outcome, agent, survey score) from the call records, found by the keyed hash of
the number, with links to those calls' pages. Calls are placed over HTTP by the caller
emulator; the records are on SQLite and on PostgreSQL."""
from __future__ import annotations

import os
import threading

import pytest
from memory_support import MEMORY_KEY, records_at, settle
from sqlalchemy import text
from werkzeug.serving import make_server

from ivr.testing import HttpTransport
from ivr.web.services import services

from console_support import PASSWORDS, Clock, caller, make_app  # noqa: I001  (tests/console, on the path)

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync"]
NUMBER = "+15551230000"

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
                                reason=f"{CHROMIUM} is missing: ./dev test installs it (apt-get install chromium)")


class Later:
    """A WSGI app made after the port is known (the public URL Twilio signs names it)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request, tmp_path):
    records = records_at(request.param, tmp_path)
    url = next(records)
    later = Later()
    server = make_server("127.0.0.1", 0, later, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app = make_app(tmp_path, Clock(step=1.0), public_url=base, IVR_RECORDS_URL=url, IVR_MEMORY_KEY=MEMORY_KEY)
    later.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, base
    server.shutdown()
    thread.join(5)
    settle(app)
    services(app).keeper.records.close()
    services(app).store.close()
    next(records, None)


@pytest.fixture(scope="module")
def browser():
    import playwright.sync_api as sync_api

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def test_the_call_page_lists_the_callers_earlier_calls_with_links(served, browser):
    app, base = served
    first = caller(app, HttpTransport(base), public_url=base, caller=NUMBER)
    first.dial()
    first.press("1")
    first.press("123456")
    assert first.heard("has shipped")
    first.hang_up()
    settle(app)
    with services(app).keeper.records.engine.begin() as conn:  # the caller rated it 4 (the survey's answer)
        conn.execute(text("UPDATE calls SET csat = 4 WHERE call_sid = :sid"), {"sid": first.call_sid})

    second = caller(app, HttpTransport(base), public_url=base, caller=NUMBER)
    second.dial()
    assert second.heard("Welcome back")
    second.press("0")  # a person: alice's phone answers
    assert second.state == "dialing"
    second.agent_leg(0).press("1")  # she takes it at the whisper
    second.dial_result("completed", duration=95)
    second.hang_up()
    settle(app)

    stranger = caller(app, HttpTransport(base), public_url=base, caller="+15559990000")  # another caller's call
    stranger.dial()
    stranger.press("3")
    stranger.hang_up()
    settle(app)

    now = caller(app, HttpTransport(base), public_url=base, caller=NUMBER)
    now.dial()
    now.press("0")
    assert now.state == "dialing"

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base + "/console/")
    page.fill("input[name=name]", "alice")
    page.fill("input[name=password]", PASSWORDS["alice"])
    page.click("button[type=submit]")
    page.wait_for_url(base + "/console/")

    page.goto(f"{base}/console/calls/{now.call_sid}")
    panel = page.locator("#caller-history")
    rows = panel.locator("tr.previous-call")
    assert rows.count() == 2  # the stranger's call is not theirs; this call is not listed
    newest, oldest = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "transferred" in newest and "alice" in newest and "4 / 5" not in newest
    assert "order status" in oldest and "abandoned" in oldest and "4 / 5" in oldest  # hung up after the answer
    assert NUMBER not in panel.inner_text()  # the calls are found by the key; the number is not repeated
    rows.nth(1).locator("a").click()
    page.wait_for_url(f"{base}/console/calls/{first.call_sid}")
    assert "order status" in page.inner_text("main")
    others = page.locator("#caller-history tr.previous-call")  # from the first call's page: the other call on record
    assert others.count() == 1 and "transferred" in others.inner_text()
    assert not errors, errors
    context.close()
    now.hang_up()
