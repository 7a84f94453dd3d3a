"""Agent pools checked against an agents file agree with the routing a running line does:
for any agents file and any pool, ``ivr validate --agents`` finds no fault with the pool
exactly when the roster the console signs agents in from has someone the pool would
ring (``Roster.in_pool``), and every name it reports is one no agent has (a language
nobody speaks beside one somebody does is only a warning: the pool still reaches them)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.cli import _agents_on_file
from ivr.flows.loader import load_text
from ivr.model.targets import AgentPool
from ivr.web.agents import parse_agents

LANGUAGES = ["en", "ko", "es", "ko-kr"]
SKILLS = ["orders", "billing", "returns"]
TARGETS = ["client:{name}", "queue:{name}", "+1500555001{n}"]
FLOW = """flow: pools
operator: {{to: desk}}
start: main
nodes:
  main:
    menu:
      prompt: "Press 1."
      options:
        - {{keys: "1", go: desk}}
        - {{keys: "2", go: bye}}
  desk:
    transfer:
      to: [{{agents: {{languages: [{languages}], skills: [{skills}]}}}}, queue:support]
  bye:
    hangup: "Goodbye."
"""

agent = st.fixed_dictionaries({"languages": st.lists(st.sampled_from(LANGUAGES), unique=True, max_size=2),
                               "skills": st.lists(st.sampled_from(SKILLS), unique=True, max_size=2),
                               "target": st.sampled_from(TARGETS)})


def agents_file(agents: list[dict]) -> str:
    lines = ["agents:"]
    for n, a in enumerate(agents):
        name = f"agent{n}"
        lines += [f"  - name: {name}", f"    display_name: Agent {n}", '    password_hash: "PLACEHOLDER"',
                  f'    targets: ["{a["target"].format(name=name, n=n)}"]',
                  f"    languages: [{', '.join(a['languages'])}]", f"    skills: [{', '.join(a['skills'])}]"]
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None)
@given(agents=st.lists(agent, min_size=1, max_size=4),
       languages=st.lists(st.sampled_from(LANGUAGES), unique=True, max_size=2),
       skills=st.lists(st.sampled_from(SKILLS), unique=True, max_size=2))
def test_validate_finds_fault_with_a_pool_exactly_when_nobody_could_be_rung(agents, languages, skills):
    text = agents_file(agents)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "agents.yaml"
        path.write_text(text, encoding="utf-8")
        on_file, status = _agents_on_file(str(path))
    assert status == 0 and on_file is not None
    flow, problems = load_text(FLOW.format(languages=", ".join(languages), skills=", ".join(skills)), "pools.yaml",
                               agents=on_file)
    about_agents = [p for p in problems if p.message.startswith("no agent in agents.yaml") and p.severity == "error"]
    noted = [p for p in problems if p.message.startswith("no agent in agents.yaml") and p.severity == "warning"]
    assert [p for p in problems if p not in about_agents and p not in noted] == [], problems
    for problem in noted:  # a language nobody speaks beside one somebody does
        assert " speaks " in problem.message
    roster = parse_agents(text, "agents.yaml", hashes=False)
    pool = AgentPool(tuple(languages), tuple(skills))
    assert (not about_agents) == bool(roster.in_pool(pool)), (about_agents, roster.in_pool(pool))
    assert (flow is None) == bool(about_agents)
    reachable = [a for a in roster.agents.values() if a.dial_target]
    for problem in about_agents + noted:
        assert problem.where.line == 13
        word = problem.message.rsplit("'", 2)[-2] if problem.message.endswith("'") else ""
        if " has skill " in problem.message:
            assert word in skills and not any(word in a.skills for a in reachable)
        elif " speaks " in problem.message:
            base = word.split("-")[0]
            assert word in languages and not any(base == lang.split("-")[0] for a in reachable for lang in a.languages)
