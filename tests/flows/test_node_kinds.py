"""One registry of node kinds, filled by discovery: every module of ``ivr/flows/nodes``
is a registered kind, the schema lists each of them, and a kind written as one new file
is read, validated, drawn and played without touching any other file."""
from __future__ import annotations

import importlib
import pkgutil
import sys
import textwrap
from datetime import datetime, timezone

import pytest

import ivr.flows.nodes as nodes_package
from ivr import engine
from ivr.flows import graph
from ivr.flows.loader import load_text
from ivr.flows.nodes import KINDS, NOT_KINDS, NodeKind
from ivr.flows.schema import json_schema
from ivr.model.actions import Listen, Speak
from ivr.model.events import CallStarted, DigitsPressed

MODULES = sorted(m.name for m in pkgutil.iter_modules(nodes_package.__path__) if m.name not in NOT_KINDS)
AT = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_of_the_nodes_package_is_a_registered_kind(name):
    module = importlib.import_module(f"ivr.flows.nodes.{name}")
    kind = module.KIND
    assert isinstance(kind, NodeKind)
    assert KINDS[kind.key] is kind and kind.node.kind == kind.key
    assert KINDS.of(kind.node("n", None)) is kind  # the engine finds it from a loaded node
    assert kind.description, "the schema and the docs describe every kind in one line"


def test_the_registry_holds_exactly_the_modules_everyday_kinds_first():
    assert sorted(type(k).__module__.rsplit(".", 1)[1] for k in KINDS.kinds()) == MODULES
    assert list(KINDS)[:3] == ["menu", "collect", "say"]


def test_the_schema_lists_every_registered_kind_with_its_definitions():
    schema = json_schema()
    listed = [next(iter(option["required"])) for option in schema["$defs"]["node"]["oneOf"]]
    assert listed == list(KINDS)
    for kind in KINDS.kinds():
        assert set(kind.schema_defs()) <= set(schema["$defs"]), kind.key


# --- a kind of our own, one file, found by the same discovery ---------------------------

BEEP_MODULE = '''
"""``beep``: beep, then go on (a kind written only for this test)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ivr.flows.nodes.base import NodeKind, Step
from ivr.flows.positions import at
from ivr.flows.reader import Context, Reader
from ivr.flows.schema_parts import integer, obj, ref
from ivr.flows.yamlpos import Y
from ivr.model.flow import Flow, Node


@dataclass(frozen=True)
class BeepNode(Node):
    times: int = 1
    go: str = ""

    kind = "beep"

    def edges(self) -> tuple[tuple[str, str], ...]:
        return (("go", self.go),)


class Beep(NodeKind[BeepNode]):
    key = "beep"
    node = BeepNode
    description = "Beep, then go on."
    automatic = True

    def parse(self, node_id: str, body: Y, node: Reader, ctx: Context) -> BeepNode:
        r = Reader(body, ctx, f"beep '{node_id}'")
        times = r.integer("times", 1, 1, 10)
        go = r.ref("go", node_id)
        r.done()
        return BeepNode(node_id, node.y.where, times, go)

    def enter(self, node: BeepNode, call: Step) -> None:
        call.speak(" ".join(["Beep."] * node.times))
        call.goto(node.go)

    def check(self, node: BeepNode, flow: Flow, ctx: Context) -> None:
        if node.times > 3:
            ctx.warn(at(ctx, node, "times"), f"beep '{node.id}' beeps {node.times} times", "callers tire of beeping")

    def schema_defs(self) -> dict[str, Any]:
        return {"beep": obj("Beep, then go on.", {"times": integer("How many beeps.", 1, 10), "go": ref("nodeId")},
                            ("go",))}


KIND = Beep()
'''

BEEP_FLOW = """\
flow: beeper
operator: {to: desk}
start: hello
nodes:
  hello:
    beep: {times: 4, go: main}
  main:
    menu:
      prompt: "Press 1 for a beep."
      options:
        - {keys: "1", go: again}
        - {keys: "2", go: desk}
  again:
    beep: {go: main}
  desk:
    transfer:
      to: [queue:support]
"""


@pytest.fixture
def beep_kind(tmp_path, monkeypatch):
    """``beep.py`` in a folder added to the nodes package's path, then discovered."""
    (tmp_path / "beep.py").write_text(textwrap.dedent(BEEP_MODULE), encoding="utf-8")
    monkeypatch.setattr(nodes_package, "__path__", [*nodes_package.__path__, str(tmp_path)])
    importlib.invalidate_caches()
    try:
        assert KINDS.discover() == ["beep"]
        yield KINDS["beep"]
    finally:
        if "beep" in KINDS:
            KINDS.forget("beep")
        sys.modules.pop("ivr.flows.nodes.beep", None)


def test_a_new_kind_in_one_file_is_read_checked_and_drawn(beep_kind):
    flow, problems = load_text(BEEP_FLOW, "beeper.yaml")
    assert flow is not None and type(flow.nodes["hello"]) is beep_kind.node
    assert [(p.severity, p.where.line, p.where.col, p.message) for p in problems] == [
        ("warning", 6, 19, "beep 'hello' beeps 4 times")]
    assert '"hello<br/><i>beep</i>"' in graph.mermaid(flow)

    broken, problems = load_text(BEEP_FLOW.replace("go: main}", "go: mian}", 1), "beeper.yaml")
    assert broken is None
    assert [(p.where.line, p.where.col, p.message, p.hint) for p in problems if p.severity == "error"] == [
        (6, 26, "'mian' is not a node of this flow (go of hello)", "did you mean 'main'?")]

    loop, problems = load_text(BEEP_FLOW.replace("beep: {go: main}", "beep: {go: again}"), "beeper.yaml")
    assert loop is None and any("endless loop without a prompt: again -> again" in p.message for p in problems)


def test_a_new_kind_is_in_the_schema(beep_kind):
    jsonschema = pytest.importorskip("jsonschema")
    yaml = pytest.importorskip("yaml")
    schema = json_schema()
    assert "beep" in [next(iter(o["required"])) for o in schema["$defs"]["node"]["oneOf"]]
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(yaml.safe_load(BEEP_FLOW))) == []
    assert list(validator.iter_errors(yaml.safe_load(BEEP_FLOW.replace("times: 4", "times: 40"))))


def test_a_new_kind_is_played_by_the_engine(beep_kind):
    flow, _ = load_text(BEEP_FLOW, "beeper.yaml")
    session, actions = engine.step(flow, None, CallStarted(AT, "CAbeep", "+15551230000", "+15005550006"))
    assert actions[0] == Speak("Beep. Beep. Beep. Beep.", language="en-US")
    assert isinstance(actions[-1], Listen) and actions[-1].node == "main"
    session, actions = engine.step(flow, session, DigitsPressed(AT, "1"))
    assert [type(a) for a in actions] == [Speak, Listen] and actions[0].text == "Beep."
    assert session.path == ("hello", "main", "again", "main")


def test_a_module_of_the_nodes_package_without_a_kind_stops_discovery(tmp_path, monkeypatch):
    (tmp_path / "half_done.py").write_text('"""A kind someone forgot to finish."""\n', encoding="utf-8")
    monkeypatch.setattr(nodes_package, "__path__", [*nodes_package.__path__, str(tmp_path)])
    importlib.invalidate_caches()
    try:
        with pytest.raises(ImportError, match=r"ivr\.flows\.nodes\.half_done .* exports no KIND"):
            KINDS.discover()
    finally:
        sys.modules.pop("ivr.flows.nodes.half_done", None)
    assert "half_done" not in KINDS
