"""The console's reports page in a real headless browser (Playwright driving Debian's
chromium) after whole calls through the caller emulator over HTTP: the figures, the
per-day table, the transfer reasons and the heat map, whose hottest node is the one
callers hung up at most; then the worklists' pages with a voicemail and a promise.

Nothing is installed here: ``./dev test`` installs ``chromium`` and ``graphviz`` (apt).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from console_support import PASSWORDS, Clock, caller, make_app
from werkzeug.serving import make_server

from ivr.flows.graph import HEAT_COLOURS
from ivr.testing import HttpTransport
from ivr.web.services import services

PLAYWRIGHT_OWN = sorted(Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
                        .glob("chromium-*/chrome-linux*/chrome"))
CHROMIUM = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") or not PLAYWRIGHT_OWN else str(PLAYWRIGHT_OWN[-1])
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync"]
SCREENSHOT = Path(os.environ.get("IVR_CONSOLE_SCREENSHOT", Path(__file__).resolve().parents[2] / "var"
                                 / "console-board.png")).with_name("console-reports.png")

import playwright.sync_api as sync_api  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
                                reason=f"{CHROMIUM} is missing: ./dev test installs it (apt-get install chromium)")


class Later:
    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    later = Later()
    server = make_server("127.0.0.1", 0, later, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    folder = tmp_path_factory.mktemp("reports")
    app = make_app(folder, Clock(step=1.3), public_url=base, IVR_VAR_DIR=str(folder / "var"))  # records of its own
    later.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, base
    server.shutdown()
    thread.join(5)
    services(app).store.close()


def call(app, base, number="+15551230000"):
    placed = caller(app, HttpTransport(base), public_url=base, caller=number)
    placed.dial()
    return placed


def test_the_reports_page_shows_the_calls_and_the_heat_map_their_hang_ups(served):
    app, base = served
    for i in range(2):                    # contained: store hours, then "that's all"
        done = call(app, base, f"+1555000010{i}")
        done.press("3")
        done.press("2")
        done.silence()                    # silent at the survey after the call: no rating
        assert done.heard("Goodbye") and done.state == "ended"
    for i in range(3):                    # three hang up at the order-number prompt
        gone = call(app, base, f"+1555000020{i}")
        gone.press("1")
        assert gone.heard("order number")
        gone.hang_up()
    early = call(app, base, "+15550000300")  # one hangs up at the welcome
    early.hang_up()
    person = call(app, base, "+15550000400")  # one asks for a person, then hangs up while it rings
    person.press("0")
    assert person.state == "dialing", person.last_heard
    person.hang_up()
    assert services(app).background.wait_idle(30)  # the records are written off the webhooks

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(base + "/console/reports")
            assert page.url.startswith(base + "/console/sign-in")  # signed out: sent to sign in
            page.fill("input[name=name]", "alice")
            page.fill("input[name=password]", PASSWORDS["alice"])
            page.click("button[type=submit]")
            page.wait_for_url(base + "/console/reports")
            page.select_option("select[name=flow]", "acme-support")
            page.fill("input[name=from]", "2026-03-04")
            page.fill("input[name=to]", "2026-03-04")
            page.click("form.report-filter button[type=submit]")
            page.wait_for_selector("#heat-map svg")

            assert page.inner_text("#fig-calls") == "7"
            assert page.inner_text("#fig-contained").startswith("2")
            assert page.inner_text("#fig-transferred") == "1"
            assert page.inner_text("#fig-abandoned") == "4"
            assert page.inner_text("#fig-abandoned-on-hold") == "1"
            row = page.locator("#table-days tr[data-day='2026-03-04'] td").all_inner_texts()
            assert row == ["2026-03-04", "7", "2", "4", "1", "29%", "71%"]
            assert page.locator("#table-reasons tr[data-reason=asked] td").all_inner_texts()[1] == "1"
            assert page.locator("#chart-reasons g.bar[data-name='asked for a person']").get_attribute(
                "data-value") == "1"
            assert page.locator("#chart-days g.point[data-series=contained]").get_attribute("data-value") == "0.2857"
            assert "no answers" in page.inner_text("#fig-csat")

            fills = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#heat-map g.node')]
                .filter(g => g.id.startsWith('heat-'))
                .map(g => [g.id.slice(5), g.querySelector('path, polygon, ellipse').getAttribute('fill')]))""")
            hung = {r[0]: int(r[2]) for r in (page.locator(f"#table-nodes tr[data-node='{n}'] td").all_inner_texts()
                                               for n in fills) if r}
            most = max(hung, key=hung.get)
            assert most == "order" and hung["order"] == 3
            assert fills["order"] == HEAT_COLOURS[-1]                   # the hottest colour
            assert fills["hours_open"] == HEAT_COLOURS[0]               # passed by, nobody struggled
            assert fills["main"] not in (HEAT_COLOURS[0], HEAT_COLOURS[-1])  # 1 of 7 hung up there
            title = page.locator("#heat-map svg > g > title").first.text_content()
            assert title == "acme-support"
            assert "2026-03-04 to 2026-03-04" in page.inner_text("#heat-map")
            page.screenshot(path=str(SCREENSHOT), full_page=True)

            svg = page.request.get(base + "/console/reports/heat.svg?flow=acme-support&from=2026-03-04&to=2026-03-04")
            assert svg.status == 200 and svg.headers["content-type"].startswith("image/svg+xml")
            assert page.request.get(base + "/console/reports?from=2026-03-05&to=2026-03-01").status == 400
            page.goto(base + "/console/reports?flow=acme-support&from=2026-03-05&to=2026-03-05")
            assert page.inner_text("#fig-calls") == "0"
            assert not errors, errors
        finally:
            browser.close()
