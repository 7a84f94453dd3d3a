"""Console sessions on the server and sign-in lock-outs (test client, real SQLite store).

A copied cookie stops working at sign-out; a session ends after its idle time; wrong
passwords lock the address out (and, from many addresses, the agent name) with the
password no longer checked; /admin token guesses count on the same lock-out; the counts
are shared by every app on the same store (workers of one host, hosts on one Redis)."""
from __future__ import annotations

import time

import pytest
from console_support import PASSWORDS, board_csrf, csrf_of, make_app, sign_in

from ivr.web.services import services

ADMIN = "console-admin-token-0123456789"


def attempt(client, name: str, password: str, address: str):
    page = client.get("/console/sign-in", environ_base={"REMOTE_ADDR": address})
    token = csrf_of(page.get_data(as_text=True))
    return client.post("/console/sign-in", data={"name": name, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def copy_cookie(source, target) -> None:
    cookie = source.get_cookie("session", path="/console")
    assert cookie is not None
    target.set_cookie("session", cookie.value, path="/console")


def test_a_cookie_copied_before_sign_out_stops_working_at_sign_out(app):
    client = sign_in(app, "alice")
    thief = app.test_client()
    copy_cookie(client, thief)
    assert thief.get("/console/").status_code == 200  # the copy works while alice is signed in
    assert client.post("/console/sign-out", data={"csrf_token": board_csrf(client)}).status_code == 302
    assert thief.get("/console/").status_code == 302  # and not a moment after
    assert thief.get("/console/events").status_code == 401


def test_a_session_ends_after_its_idle_time_but_not_while_the_agent_works(app):
    client = sign_in(app, "alice")
    sessions = app.extensions["ivr-console-sessions"]
    sessions.idle = 1.0
    for _ in range(3):  # page views keep it alive
        time.sleep(0.4)
        assert client.get("/console/").status_code == 200
    time.sleep(1.2)
    assert client.get("/console/").status_code == 302


def test_the_idle_timeout_is_a_setting(tmp_path):
    assert services(make_app(tmp_path, IVR_CONSOLE_IDLE_TIMEOUT="600")).settings.console_idle_timeout == 600
    assert services(make_app(tmp_path)).settings.console_idle_timeout == 1800


def test_wrong_passwords_lock_the_address_out_and_the_agent_still_signs_in_elsewhere(app):
    client = app.test_client()
    answers = [attempt(client, "alice", f"guess-{i}", "203.0.113.5").status_code for i in range(5)]
    assert answers == [401] * 5
    locked = attempt(client, "alice", PASSWORDS["alice"], "203.0.113.5")  # the right one: not even checked
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    assert "Too many failed sign-ins" in locked.get_data(as_text=True)
    assert attempt(client, "bob", PASSWORDS["bob"], "203.0.113.5").status_code == 429
    assert attempt(app.test_client(), "alice", PASSWORDS["alice"], "198.51.100.8").status_code == 302


def test_guesses_at_one_name_from_many_addresses_lock_that_name_out(app):
    for i in range(10):
        assert attempt(app.test_client(), "alice", "wrong", f"198.51.100.{i + 10}").status_code == 401
    assert attempt(app.test_client(), "alice", PASSWORDS["alice"], "192.0.2.200").status_code == 429
    assert attempt(app.test_client(), "bob", PASSWORDS["bob"], "192.0.2.200").status_code == 302


def test_each_lock_out_lasts_twice_as_long_as_the_one_before(tmp_path):
    app = make_app(tmp_path, IVR_SIGN_IN_LIMIT="2", IVR_SIGN_IN_LOCKOUT="1")
    client = app.test_client()
    assert [attempt(client, "alice", "x", "203.0.113.9").status_code for _ in range(2)] == [401, 401]
    first = int(attempt(client, "alice", "x", "203.0.113.9").headers["Retry-After"])
    time.sleep(1.1)
    assert [attempt(client, "alice", "x", "203.0.113.9").status_code for _ in range(2)] == [401, 401]
    second = int(attempt(client, "alice", "x", "203.0.113.9").headers["Retry-After"])
    assert first == 1 and second == 2


def test_a_successful_sign_in_forgets_the_names_failures(app):
    for i in range(9):
        attempt(app.test_client(), "alice", "wrong", f"198.51.100.{i + 40}")
    assert attempt(app.test_client(), "alice", PASSWORDS["alice"], "192.0.2.1").status_code == 302
    assert attempt(app.test_client(), "alice", "wrong", "192.0.2.2").status_code == 401  # counting starts again


def test_admin_token_guesses_lock_the_address_out_without_checking_its_token(tmp_path):
    app = make_app(tmp_path, IVR_ADMIN_TOKEN=ADMIN)
    client = app.test_client()

    def reload(token: str, address: str = "203.0.113.77"):
        return client.post("/admin/reload", headers={"Authorization": f"Bearer {token}"},
                           environ_base={"REMOTE_ADDR": address})

    assert [reload(f"guess-{i}").status_code for i in range(5)] == [403] * 5
    assert reload(ADMIN).status_code == 429  # the right token, from a locked-out address: not checked
    assert reload(ADMIN, "198.51.100.1").status_code == 200
    # the same lock-out as the console's
    assert attempt(client, "alice", PASSWORDS["alice"], "203.0.113.77").status_code == 429


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_lock_outs_and_sessions_are_shared_by_every_worker_on_the_store(tmp_path, backend, request):
    extra = {}
    if backend == "redis":
        extra["IVR_STORE"] = request.getfixturevalue("redis_store_url")
    one, two = make_app(tmp_path, **extra), make_app(tmp_path, **extra)  # two workers, one store
    for i in range(5):
        assert attempt(one.test_client(), "alice", f"guess-{i}", "203.0.113.50").status_code == 401
    assert attempt(two.test_client(), "alice", PASSWORDS["alice"], "203.0.113.50").status_code == 429
    client = sign_in(one, "bob")
    other_worker = two.test_client()
    copy_cookie(client, other_worker)
    assert other_worker.get("/console/").status_code == 200
    assert client.post("/console/sign-out", data={"csrf_token": board_csrf(client)}).status_code == 302
    assert other_worker.get("/console/").status_code == 302


def test_the_live_board_stream_ends_when_the_session_is_signed_out(app):
    client = sign_in(app, "alice")
    copy = app.test_client()
    copy_cookie(client, copy)
    stream = copy.get("/console/events", buffered=False)
    assert stream.status_code == 200
    chunks = iter(stream.response)
    assert b"snapshot" in b"".join(next(chunks) for _ in range(2))
    assert client.post("/console/sign-out", data={"csrf_token": board_csrf(client)}).status_code == 302
    began, seen = time.monotonic(), b""
    for chunk in chunks:  # the next heartbeat (0.2 s here) finds the session gone
        seen += chunk
        if b"signed-out" in seen or time.monotonic() - began > 3:
            break
    stream.close()
    assert b"event: signed-out" in seen and time.monotonic() - began < 2
