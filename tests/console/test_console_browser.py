"""The agent console in a real headless browser (Playwright driving Debian's chromium)
against the app served over HTTP on 127.0.0.1; calls are placed by the caller emulator
over HTTP to the same server.

Nothing is installed here: ``./dev test`` installs ``chromium`` (apt). Locally, once:
``apt-get install -y chromium``.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from console_support import PASSWORDS, Clock, caller, make_app, session_of
from werkzeug.serving import make_server

from ivr.testing import HttpTransport
from ivr.web.services import services

# Debian's chromium; where apt has none (Ubuntu), the one `playwright install chromium` downloaded (./dev test)
PLAYWRIGHT_OWN = sorted(Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
                        .glob("chromium-*/chrome-linux*/chrome"))
CHROMIUM = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") or not PLAYWRIGHT_OWN else str(PLAYWRIGHT_OWN[-1])
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync"]
SCREENSHOT = Path(os.environ.get("IVR_CONSOLE_SCREENSHOT", Path(__file__).resolve().parents[2] / "var"
                                 / "console-board.png"))

import playwright.sync_api as sync_api  # noqa: E402  (a test dependency: ./dev test installs it)

# In CI (./dev test) chromium is installed, so a missing browser is a failure there.
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
                                reason=f"{CHROMIUM} is missing: ./dev test installs it (apt-get install chromium)")


class Later:
    """A WSGI app that forwards to one made after the port is known (the public URL
    Twilio signs with names the port)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    later = Later()
    server = make_server("127.0.0.1", 0, later, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app = make_app(tmp_path_factory.mktemp("console"), Clock(step=1.7), public_url=base)
    app.config["IVR_CONSOLE_HEARTBEAT"] = 1.0
    later.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, base
    server.shutdown()
    thread.join(5)
    services(app).store.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def http_caller(app, base, **kwargs):
    return caller(app, HttpTransport(base), public_url=base, **kwargs)


def sign_in(page, base, name, password=None):
    page.goto(base + "/console/")
    assert page.url.startswith(base + "/console/sign-in")       # signed out: sent to sign in
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password or PASSWORDS[name])
    page.click("button[type=submit]")


def test_a_transfer_appears_live_with_its_context_and_accept_connects_it(served, browser):
    app, base = served
    alice = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = alice.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    sign_in(page, base, "alice", "not-her-password")
    assert "That name and password do not match" in page.inner_text(".error")
    sign_in(page, base, "alice")
    page.wait_for_url(base + "/console/")
    page.wait_for_selector("#live[data-state=live]")
    assert "Alice Moreno" in page.inner_text(".me")
    assert "No caller is waiting" in page.inner_text("#section-waiting")

    browsing = http_caller(app, base, caller="+15557654321")     # a call still in the menu
    browsing.dial()
    browsing.press("3")
    call = http_caller(app, base)
    call.dial()
    call.press("1")
    call.press("111111")
    call.say("this is ridiculous, I want a person")
    assert call.state == "dialing", call.last_heard

    card = page.locator(f"#section-waiting #call-{call.call_sid}")  # arrives by the event stream
    card.wait_for(timeout=10_000)
    page.locator(f"#section-automated #call-{browsing.call_sid}").wait_for(timeout=10_000)
    text = card.inner_text()
    assert "ringing for you" in text and "not verified" in text and "order status" in text
    assert "+15551230000" in text or call.params["From"] in text
    assert "111111" in text and "this is ridiculous" in text and "order_retry" in text
    assert card.locator(".score-high .fill-100, .score-high [class^=fill-]").count() == 1
    assert page.title().startswith("(1)")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # bob sees the call but was not offered it: no buttons, and the server refuses him
    bob = browser.new_context()
    bob_page = bob.new_page()
    sign_in(bob_page, base, "bob")
    bob_card = bob_page.locator(f"#call-{call.call_sid}")
    bob_card.wait_for(timeout=10_000)
    assert bob_card.locator("button").count() == 0 and "ringing client:alice" in bob_card.inner_text()
    token = bob_page.locator(".me input[name=csrf_token]").get_attribute("value")
    refused = bob_page.request.post(f"{base}/console/calls/{call.call_sid}/answer",
                                    form={"attempt": "1", "action": "accept", "csrf_token": token},
                                    headers={"Accept": "application/json"})
    assert refused.status == 403
    # a signed-out browser is sent to sign in and cannot post
    stranger = browser.new_context()
    stranger_page = stranger.new_page()
    stranger_page.goto(base + "/console/calls")
    assert stranger_page.url.startswith(base + "/console/sign-in")
    assert stranger.request.post(f"{base}/console/calls/{call.call_sid}/answer",
                                 form={"attempt": "1", "action": "accept"}).status == 401
    # alice's own session without the CSRF token is refused too
    assert alice.request.post(f"{base}/console/calls/{call.call_sid}/answer",
                              form={"attempt": "1", "action": "accept"}).status == 400
    assert session_of(app, call.call_sid)["phase"] == "transfer"

    card.locator("button[value=accept]").click()
    connected = page.locator(f"#section-connected #call-{call.call_sid}")
    connected.wait_for(timeout=10_000)
    assert "connected to client:alice" in connected.inner_text()
    assert "You took the call" in page.inner_text("#notice")
    assert session_of(app, call.call_sid)["phase"] == "connected"
    bob_page.locator(f"#section-connected #call-{call.call_sid}").wait_for(timeout=10_000)  # live for bob too

    browsing.hang_up()                                            # an ended call leaves the board
    page.locator(f"#call-{browsing.call_sid}").wait_for(state="detached", timeout=10_000)
    page.click("text=Recent calls")
    page.wait_for_url(base + "/console/calls")
    page.screenshot(path=str(SCREENSHOT.with_name("console-history.png")))
    page.click(f"a[href='/console/calls/{browsing.call_sid}']")
    detail = page.inner_text("main")
    assert "+15557654321" in detail and "store hours" in detail and "pressed 3" in detail
    page.goto(f"{base}/console/calls/{call.call_sid}")
    assert "this is ridiculous" in page.inner_text("main")
    page.screenshot(path=str(SCREENSHOT.with_name("console-call.png")), full_page=True)
    assert not errors, errors
    for context in (alice, bob, stranger):
        context.close()
