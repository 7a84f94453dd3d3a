"""Agents' presence in the store: the same contract for SQLite and Redis (real servers),
the transitions as properties, and many threads claiming one agent at once (one wins)."""
from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.store.presence import AgentState, MemoryPresence, chosen, claimed, held, released
from ivr.store.redis import RedisStore
from ivr.store.sqlite import SQLiteStore


@pytest.fixture(params=["sqlite", "redis", "memory"])
def presence(request, tmp_path):
    if request.param == "memory":
        yield MemoryPresence()
        return
    if request.param == "sqlite":
        store = SQLiteStore(str(tmp_path / "calls.sqlite3"))
    else:
        prefix = request.getfixturevalue("redis_prefix")
        store = RedisStore(request.getfixturevalue("redis_server_url"), prefix=prefix)
    yield store.presence
    store.close()


def test_an_agent_never_seen_is_away_and_signing_in_makes_them_available(presence):
    assert presence.states(["ann"]) == {}
    state = presence.choose("ann", "available", 100.0)
    assert (state.state, state.since, state.seen) == ("available", 100.0, 100.0)
    assert presence.states(["ann", "bob"]) == {"ann": state}


def test_a_claim_makes_one_available_agent_busy_for_one_call(presence):
    presence.choose("ann", "available", 100.0)
    assert presence.claim("ann", "CA1", 110.0)
    assert not presence.claim("ann", "CA2", 111.0)  # busy: another call cannot have her
    assert presence.states(["ann"])["ann"].call == "CA1"
    assert not presence.release("ann", "CA2", 112.0)  # not that call's agent
    assert presence.release("ann", "CA1", 120.0)
    after = presence.states(["ann"])["ann"]
    assert (after.state, after.since) == ("available", 120.0)  # idle from the end of the call


def test_away_agents_cannot_be_claimed_and_away_chosen_on_a_call_applies_after_it(presence):
    presence.choose("ann", "away", 100.0)
    assert not presence.claim("ann", "CA1", 101.0)
    presence.choose("ann", "available", 102.0)
    assert presence.claim("ann", "CA1", 103.0)
    busy = presence.choose("ann", "away", 104.0)
    assert (busy.state, busy.after) == ("busy", "away")
    presence.release("ann", "CA1", 105.0)
    assert presence.states(["ann"])["ann"].state == "away"


def test_the_end_of_a_call_frees_every_agent_busy_with_it(presence):
    for name in ("ann", "bob", "cy"):
        presence.choose(name, "available", 100.0)
    presence.claim("ann", "CA1", 101.0)
    presence.hold("bob", "CA1", 102.0)  # rung directly and took it
    presence.claim("cy", "CA2", 103.0)
    assert sorted(presence.release_call(["ann", "bob", "cy"], "CA1", 200.0)) == ["ann", "bob"]
    states = presence.states(["ann", "bob", "cy"])
    assert [states[n].state for n in ("ann", "bob", "cy")] == ["available", "available", "busy"]


def test_many_threads_claiming_one_agent_for_different_calls_one_wins(presence):
    presence.choose("ann", "available", 100.0)
    won: list[str] = []
    start = threading.Barrier(8)

    def claim(call: str) -> None:
        start.wait()
        if presence.claim("ann", call, 101.0):
            won.append(call)

    threads = [threading.Thread(target=claim, args=(f"CA{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(won) == 1 and presence.states(["ann"])["ann"].call == won[0]


def test_two_stores_on_one_redis_see_the_same_presence_and_race_for_one_agent(redis_server_url, redis_prefix):
    one, two = (RedisStore(redis_server_url, prefix=redis_prefix) for _ in range(2))
    try:
        one.presence.choose("ann", "available", 100.0)
        assert two.presence.states(["ann"])["ann"].state == "available"
        assert two.presence.claim("ann", "CA2", 101.0)
        assert not one.presence.claim("ann", "CA1", 101.0)
    finally:
        one.close()
        two.close()


STATES = st.builds(AgentState, st.sampled_from(["available", "busy", "away"]), st.floats(0, 1e6),
                   st.sampled_from(["", "CA1", "CA2"]), st.sampled_from(["", "available", "away"]), st.floats(0, 1e6))
MAYBE = st.none() | STATES


@settings(max_examples=300, deadline=None)
@given(MAYBE, st.sampled_from(["CA1", "CA2"]), st.floats(0, 1e6))
def test_only_an_available_agent_can_be_claimed_and_then_is_busy_with_that_call(current, call, at):
    new = claimed(current, call, at)
    if current is None or current.state != "available":
        assert new is None
    else:
        assert new is not None and (new.state, new.call, new.since) == ("busy", call, at)


@settings(max_examples=300, deadline=None)
@given(MAYBE, st.sampled_from(["CA1", "CA2"]), st.floats(0, 1e6))
def test_release_frees_only_the_agent_of_that_call_to_what_they_chose(current, call, at):
    new = released(current, call, at)
    if current is None or current.state != "busy" or current.call != call:
        assert new is None
    else:
        assert new is not None and new.state == (current.after or "available") and new.call == "" and new.since == at


@settings(max_examples=300, deadline=None)
@given(MAYBE, st.sampled_from(["available", "away"]), st.floats(0, 1e6))
def test_a_busy_agent_stays_busy_whatever_they_choose(current, wanted, at):
    new = chosen(current, wanted, at)
    if current is not None and current.state == "busy":
        assert (new.state, new.call, new.after) == ("busy", current.call, wanted)
    else:
        assert new.state == wanted
        if current is not None and current.state == wanted:
            assert new.since == current.since  # choosing it again keeps the idle time


@settings(max_examples=200, deadline=None)
@given(MAYBE, st.sampled_from(["CA1", "CA2"]), st.floats(0, 1e6))
def test_taking_a_call_directly_makes_anyone_busy_and_the_end_restores_them(current, call, at):
    new = held(current, call, at)
    state = new or current
    assert state is not None and state.state == "busy"
    if new is not None and (current is None or current.state != "busy"):
        back = released(new, call, at + 1)
        assert back is not None and back.state == (current.state if current is not None else "away")
