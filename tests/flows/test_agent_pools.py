"""Agent pool targets in a flow: ``{agents: {languages: [...], skills: [...]}}`` read when
the flow loads, every mistake at its line and column, the schema accepting what the loader
accepts, and the engine offering the same pool again until it has nobody left."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import problems_of

from ivr.engine.engine import step
from ivr.flows.schema import json_schema
from ivr.model.actions import Record, Transfer
from ivr.model.events import CallStarted, DigitsPressed, TransferResult

jsonschema = pytest.importorskip("jsonschema")
AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
FLOW = """
flow: pools
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
      to: {to}
      fallback: bye
  bye:
    hangup: "Goodbye."
"""


def flow_with(to: str):
    return problems_of(FLOW.format(to=to))


def test_pools_are_read_in_order_with_other_targets():
    flow, problems = flow_with('[{agents: {languages: [KO], skills: [orders, billing]}}, {agents: {}}, {agents: }, '
                               '"+15005550010"]')
    assert flow is not None, problems
    assert flow.nodes["desk"].targets == ("agents:languages=ko;skills=billing,orders", "agents:", "agents:",
                                          "+15005550010")


@pytest.mark.parametrize("to, message, where", [
    ("[{agents: {langs: [ko]}}]", "unknown key 'langs'", (14, 22)),
    ("[{agents: {skills: [Order Desk]}}]", "'Order Desk' is not a skill name", (14, 31)),
    ("[{agents: {languages: [korean language]}}]", "is not a language code", (14, 34)),
    ("[{agent: {}}]", "unknown key 'agent'", (14, 13)),
    ("[{}]", "must be written {agents: {...}}", (14, 12)),
    ("[[client:ann]]", "must list targets, not a list", (14, 12)),
])
def test_a_wrong_pool_is_refused_at_its_line_and_column(to, message, where):
    flow, problems = flow_with(to)
    assert flow is None
    found = [p for p in problems if message in p.message]
    assert found, [p.message for p in problems]
    assert (found[0].where.line, found[0].where.col) == where


@pytest.mark.parametrize("to", ['{agents: {languages: [ko]}}', '[{agents: {skills: [orders]}}, queue:support]',
                                '[{agents: {}}, client:ann]'])
def test_the_schema_accepts_what_the_loader_accepts(to):
    import yaml

    flow, problems = flow_with(to)
    assert flow is not None, problems
    jsonschema.Draft202012Validator(json_schema()).validate(yaml.safe_load(FLOW.format(to=to)))


def test_the_engine_offers_a_pool_again_after_a_pass_and_moves_on_when_nobody_is_free():
    flow, problems = flow_with('[{agents: {languages: [ko]}}, {agents: {}}]')
    assert flow is not None, problems
    session, _ = step(flow, None, CallStarted(AT, "CApool", "+15551230000"))
    session, actions = step(flow, session, DigitsPressed(AT, "1"))
    assert actions[-1] == Transfer(**{**vars(actions[-1]), "target": "agents:languages=ko", "attempt": 1})
    for status in ("declined", "no-answer", "busy", "failed"):  # each agent who does not take it: the same pool
        session, actions = step(flow, session, TransferResult(AT, status, "client:someone"))
        assert isinstance(actions[-1], Transfer) and actions[-1].target == "agents:languages=ko"
    session, actions = step(flow, session, TransferResult(AT, "unavailable", "agents:languages=ko"))
    assert isinstance(actions[-1], Transfer) and actions[-1].target == "agents:" and actions[-1].attempt == 2
    session, actions = step(flow, session, TransferResult(AT, "unavailable", "agents:"))
    assert session.node == "bye" and not isinstance(actions[-1], (Transfer, Record))
    assert [t["status"] for t in session.transfers] == ["declined", "no-answer", "busy", "failed", "unavailable",
                                                        "unavailable"]
