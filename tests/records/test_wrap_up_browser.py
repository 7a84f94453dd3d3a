"""The wrap-up form in a real headless browser (Playwright driving Debian's chromium),
against the app served over HTTP; the call is placed by the caller emulator over HTTP to
the same server (a plain <Dial>: the agent takes it at the whisper, talks, hangs up, and
the caller rates the call)."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from survey_line import PASSWORD, TOKEN, Clock, make_app, record_row
from werkzeug.serving import make_server

from ivr.testing import Caller, HttpTransport
from ivr.web.services import services

PLAYWRIGHT_OWN = sorted(Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
                        .glob("chromium-*/chrome-linux*/chrome"))
CHROMIUM = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") or not PLAYWRIGHT_OWN else str(PLAYWRIGHT_OWN[-1])
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync"]

import playwright.sync_api as sync_api  # noqa: E402  (a test dependency: ./dev test installs it)

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
                                reason=f"{CHROMIUM} is missing: ./dev test installs it (apt-get install chromium)")


class Later:
    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture()
def served(tmp_path):
    later = Later()
    server = make_server("127.0.0.1", 0, later, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app = make_app(tmp_path, f"sqlite:///{tmp_path}/records.sqlite3", warm=False, clock=Clock(), public=base)
    later.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, base
    server.shutdown()
    thread.join(5)
    services(app).store.close()


@pytest.fixture()
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def sign_in(page, base, name):
    page.goto(base + "/console/")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/console/")


def test_the_agent_who_took_the_call_wraps_it_up_in_the_browser(served, browser):
    app, base = served
    call = Caller(HttpTransport(base), auth_token=TOKEN, public_url=base)
    call.dial()
    call.press("2")
    sam = call.agent_leg(0)
    sam.press("1")
    call.dial_result("completed", duration=80)
    call.press("4")
    call.record(duration=2)
    assert call.state == "ended", call.transcript

    page = browser.new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, base, "sam")
    page.goto(f"{base}/console/calls/{call.call_sid}")
    form = page.locator("form.wrap-up-form")
    assert form.is_visible()
    assert [page.locator("form.wrap-up-form input[name=code]").nth(i).get_attribute("value") for i in range(3)] == [
        "order question", "complaint", "resolved"]
    page.click("text=Save wrap-up")  # nothing chosen: the browser asks for the required answers
    assert page.url == f"{base}/console/calls/{call.call_sid}" and record_row(app, call)["disposition"] is None
    page.check("input[name=code][value=complaint]")
    page.check("input[name=needed_person][value=yes]")
    page.click("text=Save wrap-up")
    page.wait_for_selector(".wrap-up-last")
    assert "Wrap-up saved: complaint; needed a person: yes." in page.content()
    assert "Saved: complaint; needed a person: yes (by sam)." in " ".join(page.inner_text(".wrap-up-last").split())
    assert page.is_checked("input[name=code][value=complaint]")
    row = record_row(app, call)
    assert (row["disposition"], row["disposition_by"], row["needed_person"], row["csat"]) == ("complaint", "sam", True, 4)

    page.check("input[name=code][value=resolved]")  # changing it: the last word counts
    page.check("input[name=needed_person][value=no]")
    page.click("text=Save wrap-up")
    page.wait_for_selector("text=Wrap-up saved: resolved")
    row = record_row(app, call)
    assert (row["disposition"], row["needed_person"]) == ("resolved", False)

    eve = browser.new_context().new_page()
    sign_in(eve, base, "eve")
    eve.goto(f"{base}/console/calls/{call.call_sid}")
    assert eve.locator("form.wrap-up-form").count() == 0  # never offered this call: no form
    assert errors == []
