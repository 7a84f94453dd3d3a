"""Signing in and out of the agent console, the session cookie and CSRF (test client)."""
from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

from console_support import CSRF, PASSWORDS, board_csrf, caller, csrf_of, make_app, session_of, sign_in, to_a_person


def test_signed_out_pages_redirect_to_sign_in(app):
    client = app.test_client()
    for path in ("/console/", "/console/calls", "/console/calls/CA123"):
        reply = client.get(path)
        assert reply.status_code == 302, path
        location = urlsplit(reply.headers["Location"])
        assert location.path == "/console/sign-in" and parse_qs(location.query)["next"] == [path]
    assert client.get("/console/events").status_code == 401


def test_sign_in_then_the_board_greets_the_agent_and_sign_out_ends_it(app):
    client = sign_in(app, "alice")
    page = client.get("/console/")
    assert page.status_code == 200
    assert "Alice Moreno" in page.get_data(as_text=True)
    reply = client.post("/console/sign-out", data={"csrf_token": board_csrf(client)})
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/console/sign-in")
    assert client.get("/console/").status_code == 302


def test_sign_in_goes_back_to_the_page_asked_for_but_never_off_site(app):
    client = app.test_client()
    token = csrf_of(client.get("/console/sign-in").get_data(as_text=True))
    reply = client.post("/console/sign-in?next=/console/calls",
                        data={"name": "alice", "password": PASSWORDS["alice"], "csrf_token": token})
    assert reply.headers["Location"] == "/console/calls"
    client = app.test_client()
    token = csrf_of(client.get("/console/sign-in").get_data(as_text=True))
    reply = client.post("/console/sign-in?next=//evil.example.com/console",
                        data={"name": "alice", "password": PASSWORDS["alice"], "csrf_token": token})
    assert reply.headers["Location"] == "/console/"


def test_a_wrong_password_and_an_unknown_name_get_the_same_refusal(app):
    answers = []
    for name, password in (("alice", "not-her-password"), ("mallory", PASSWORDS["alice"]), ("alice", "")):
        client = app.test_client()
        token = csrf_of(client.get("/console/sign-in").get_data(as_text=True))
        reply = client.post("/console/sign-in", data={"name": name, "password": password, "csrf_token": token})
        assert reply.status_code == 401
        text = reply.get_data(as_text=True)
        assert "That name and password do not match" in text
        answers.append(CSRF.sub("", text).replace(name, "NAME"))
        assert client.get("/console/").status_code == 302  # still signed out
    assert answers[0] == answers[1]  # nothing tells which part was wrong


def test_the_session_cookie_is_httponly_lax_secure_and_scoped_to_the_console(app):
    client = app.test_client()
    reply = client.get("/console/sign-in")
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" in cookie  # the public URL is https


def test_the_cookie_is_not_secure_when_the_public_url_is_plain_http(tmp_path):
    app = make_app(tmp_path, public_url="http://127.0.0.1:8080")
    cookie = app.test_client().get("/console/sign-in").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" not in cookie


def test_sign_in_without_the_csrf_token_is_refused(app):
    client = app.test_client()
    client.get("/console/sign-in")
    reply = client.post("/console/sign-in", data={"name": "alice", "password": PASSWORDS["alice"]})
    assert reply.status_code == 400
    assert client.get("/console/").status_code == 302


def test_a_post_without_the_csrf_token_changes_nothing(app):
    call = to_a_person(caller(app))
    client = sign_in(app, "alice")
    for data, headers in (({"attempt": "1", "action": "accept"}, {}),
                          ({"attempt": "1", "action": "accept", "csrf_token": "forged"}, {}),
                          ({"attempt": "1", "action": "accept"}, {"X-CSRF-Token": "forged"})):
        reply = client.post(f"/console/calls/{call.call_sid}/answer", data=data, headers=headers)
        assert reply.status_code == 400
    assert session_of(app, call.call_sid)["phase"] == "transfer"
    # the token of another agent's session is no good either
    other = board_csrf(sign_in(app, "bob"))
    reply = client.post(f"/console/calls/{call.call_sid}/answer",
                        data={"attempt": "1", "action": "accept", "csrf_token": other})
    assert reply.status_code == 400
    assert session_of(app, call.call_sid)["phase"] == "transfer"
    # sign-out is a POST too
    assert client.post("/console/sign-out").status_code == 400
    assert client.get("/console/").status_code == 200


def test_a_signed_out_user_cannot_post(app):
    call = to_a_person(caller(app))
    client = app.test_client()
    token = csrf_of(client.get("/console/sign-in").get_data(as_text=True))  # a session, but nobody signed in
    reply = client.post(f"/console/calls/{call.call_sid}/answer",
                        data={"attempt": "1", "action": "accept", "csrf_token": token})
    assert reply.status_code == 401
    assert session_of(app, call.call_sid)["phase"] == "transfer"


def test_without_an_agents_file_the_console_explains_how_to_make_one_and_refuses_sign_in(tmp_path):
    app = make_app(tmp_path, agents=False)
    client = app.test_client()
    page = client.get("/console/sign-in").get_data(as_text=True)
    assert "No agents are set up" in page
    assert "IVR_AGENTS_FILE" in page and ".venv/bin/ivr agents hash" in page
    assert 'type="password"' not in page  # no form to fill in
    reply = client.post("/console/sign-in", data={"name": "alice", "password": PASSWORDS["alice"]})
    assert reply.status_code in (400, 503)
    assert client.get("/console/").status_code == 302


def test_an_agent_removed_from_the_file_is_signed_out(app, tmp_path):
    client = sign_in(app, "bob")
    assert client.get("/console/").status_code == 200
    path = tmp_path / "agents.yaml"
    text = path.read_text()
    path.write_text(text[:text.index("  - name: bob")])
    os.utime(path, (1, 1))  # a different modification time, even within the same second
    assert client.get("/console/").status_code == 302
    assert sign_in(app, "alice").get("/console/").status_code == 200
