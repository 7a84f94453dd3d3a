"""Two hosts of one line on one Redis: presence is shared, and two calls offered to the
one available agent at the same moment on two hosts ring her once; the other caller
moves on at once (here: to the fallback)."""
from __future__ import annotations

import threading
import uuid

import pytest
from handoff_line import Clock, call_updates_ok, caller, created_legs, leg_created, settled, updates
from skills_line import make_app, presence, rung, sign_in

import ivr.web.presence as presence_module

pytestmark = pytest.mark.usefixtures("redis_up")


@pytest.fixture()
def redis_up():
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(socket_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379 (./dev test starts it)")


def test_two_hosts_racing_for_one_agent_ring_her_once_and_the_other_caller_moves_on(tmp_path, api, monkeypatch):
    clock = Clock()
    url = f"redis://127.0.0.1:6379/15?prefix=skills-{uuid.uuid4().hex}"
    one = make_app(tmp_path, clock, store=url)
    two = make_app(tmp_path, clock, store=url)  # a second host on the same store
    leg_created(api, ["CAleg1", "CAleg2"])
    call_updates_ok(api)
    sign_in(one, clock, "ann")  # signed in on host one: host two sees her available
    assert presence(two)["ann"] == "available"

    both_chose = threading.Barrier(2, timeout=10)
    chosen = presence_module.offer_order

    def at_the_same_moment(*args, **kwargs):
        order = chosen(*args, **kwargs)
        both_chose.wait()  # each host has picked ann before either claims her
        return order

    monkeypatch.setattr(presence_module, "offer_order", at_the_same_moment)
    first, second = caller(one), caller(two, caller="+15005550222")
    first.dial()
    second.dial()
    first.press("3")
    second.press("3")
    settled(one)
    settled(two)
    assert rung(api) == ["client:ann"]  # once, for one call
    status_url = created_legs(api)[0]["StatusCallback"][0]
    winner, loser = (first, second) if first.call_sid in status_url else (second, first)
    assert winner.dial.conference == f"ivr-{winner.call_sid}"
    [(_where, redirect)] = [(u, b) for u, b in updates(api) if loser.call_sid in u]
    loser.update(redirect["Url"][0])
    assert loser.heard("leave a message")
    assert presence(one)["ann"] == presence(two)["ann"] == "busy"
