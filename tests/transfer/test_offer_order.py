"""Who an agent pool offers a call to, as properties over random rosters and presence:
only available agents whose console was seen lately, who speak one of the pool's
languages and have all its skills, never one already offered the call, longest idle first."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.model.targets import AgentPool, target_kind
from ivr.store.presence import AgentState
from ivr.web.agents import Agent, offer_order

LANGS = ["en", "ko", "es"]
SKILLS = ["orders", "billing", "returns"]
NOW = 10_000.0
GONE = 60.0


@st.composite
def desks(draw):
    names = draw(st.lists(st.sampled_from([f"a{i}" for i in range(12)]), unique=True, max_size=12))
    agents = [Agent(name, name.upper(), "h", (f"client:{name}",),
                    tuple(draw(st.lists(st.sampled_from(LANGS), unique=True, max_size=3))),
                    tuple(draw(st.lists(st.sampled_from(SKILLS), unique=True, max_size=3)))) for name in names]
    presence = {}
    for agent in agents:
        if draw(st.booleans()):
            presence[agent.name] = AgentState(draw(st.sampled_from(["available", "busy", "away"])),
                                              draw(st.floats(0, NOW)), "", "", draw(st.floats(NOW - 200, NOW)))
    offered = set(draw(st.lists(st.sampled_from(names), max_size=4))) if names else set()
    pool = AgentPool(tuple(draw(st.lists(st.sampled_from(LANGS), unique=True, max_size=2))),
                     tuple(draw(st.lists(st.sampled_from(SKILLS), unique=True, max_size=2))))
    return agents, presence, offered, pool


@settings(max_examples=400, deadline=None)
@given(desks())
def test_only_free_matching_agents_never_offered_before_longest_idle_first(desk):
    agents, presence, offered, pool = desk
    members = [a for a in agents if pool.takes(a.languages, a.skills)]
    order = offer_order(members, presence, offered, NOW, GONE)
    for agent in order:
        state = presence[agent.name]
        assert state.state == "available" and NOW - state.seen <= GONE  # not busy, not away, console alive
        assert agent.name not in offered  # never the same agent twice in one call
        assert set(pool.skills) <= set(agent.skills)  # every skill the pool asks for
        assert not pool.languages or set(pool.languages) & set(agent.languages)  # one of its languages
    idle = [presence[a.name].since for a in order]
    assert idle == sorted(idle)  # longest idle first
    left_out = [a for a in members if a not in order]
    for agent in left_out:  # nobody free and matching is left out
        state = presence.get(agent.name)
        assert agent.name in offered or state is None or state.state != "available" or NOW - state.seen > GONE


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(LANGS), unique=True, max_size=3), st.lists(st.sampled_from(SKILLS), unique=True,
                                                                             max_size=3))
def test_a_pool_reads_back_from_its_target_text(languages, skills):
    pool = AgentPool(tuple(languages), tuple(skills))
    assert target_kind(pool.target) == "agents"
    back = AgentPool.of(pool.target)
    assert back is not None and set(back.languages) == set(languages) and set(back.skills) == set(skills)


def test_offering_again_and_again_walks_through_the_pool_once():
    agents = [Agent(n, n, "h", (f"client:{n}",), ("ko",), ()) for n in ("a", "b", "c")]
    presence = {"a": AgentState("available", 30, seen=NOW), "b": AgentState("available", 10, seen=NOW),
                "c": AgentState("available", 20, seen=NOW)}
    offered: list[str] = []
    while order := offer_order(agents, presence, offered, NOW, GONE):
        offered.append(order[0].name)
    assert offered == ["b", "c", "a"]
