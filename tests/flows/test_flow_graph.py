"""Drawings of a flow: every node once, labelled edges, the operator escape drawn once."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from ivr.flows import graph
from ivr.flows.loader import load_paths

from conftest import AUDIO, CALL_FLOWS, GOOD


@pytest.fixture(scope="module")
def demo():
    loaded = load_paths(sorted(CALL_FLOWS.glob("*.y*ml")), CALL_FLOWS.parent / "audio")
    return loaded.flows["acme-support"]


@pytest.fixture(scope="module")
def tricky():
    return load_paths([GOOD / "tricky_but_valid.yaml"], AUDIO).flows["tricky-but-valid"]


def test_mermaid_declares_every_node_once_with_its_kind(demo):
    text = graph.mermaid(demo)
    assert text.startswith("flowchart TD\n")
    for node_id, node in demo.nodes.items():
        declared = re.findall(rf'^ +n\d+\S*?"{re.escape(node_id)}<br/><i>(\w+)</i>(?:<br/>[^"]*)?"', text, re.M)
        assert declared == [node.kind], node_id


def test_mermaid_shapes_transfers_differently(demo):
    text = graph.mermaid(demo)
    assert re.search(r'^ +n\d+\{\{"front_desk<br/><i>transfer</i><br/>to client:alice and 2 more"\}\}$', text, re.M)
    assert re.search(r'^    n\d+\["main<br/><i>menu</i>"\]$', text, re.M)


def test_the_operator_escape_is_drawn_once_not_on_every_node(demo):
    text = graph.mermaid(demo)
    assert text.count("any prompt: 0 or 'agent'") == 1
    assert "operator" not in text.replace("'operator'", "")
    escapes = [line for line in text.splitlines() if line.strip().startswith("escape")]
    assert len(escapes) == 1  # retry.then is the operator's target: no second box


def test_edges_carry_keys_labels_and_outcomes(demo):
    text = graph.mermaid(demo)
    ids = dict(re.findall(r'^ +(n\d+)\S*?"(\w+)<br/>', text, re.M))
    named = {ids[a] + " " + label + " " + ids[b] for a, label, b in re.findall(r'(n\d+) -\.?->\|"([^"]*)"\| (n\d+)', text)}
    assert "main 1: order status order" in named
    assert "order_lookup found order_status" in named
    assert "order_lookup not_found order_retry" in named
    assert "order_lookup error front_desk" in named  # no error: given, so a person
    assert "store_hours closed hours_closed" in named
    assert "balance_check lookup.balance > 0 balance_due" in named
    written = sum(1 for n in demo.nodes.values() for _ in n.edges())
    lookups_without_error = sum(1 for n in demo.nodes.values() if n.kind == "lookup" and not n.error)
    assert len(re.findall(r"^    n\d+ -\.?->", text, re.M)) == written + lookups_without_error


def test_dot_has_every_node_and_edge_and_the_escapes_once(tricky):
    text = graph.dot(tricky)
    assert text.startswith('digraph "tricky-but-valid" {') and text.rstrip().endswith("}")
    for node_id in tricky.nodes:
        assert len(re.findall(rf'^ +"{node_id}" \[label=', text, re.M)) == 1
    assert '"desk" [label="desk\\ntransfer\\nto client:alice and 2 more", shape=doubleoctagon' in text
    assert text.count("any prompt: 0") == 1
    assert '"route" -> "shipped_verified" [label="pin set and lookup.status = shipped"];' in text
    assert '"closed_menu" -> "message" [label="0: message"];' in text
    assert '"(call)" -> "closed_menu" [label="closed"];' in text


def test_dot_escapes_quotes_in_labels(check):
    flow, problems = check('''\
        flow: q
        operator: {to: desk}
        start: main
        nodes:
          main:
            menu:
              prompt: "Say yes or no."
              options:
                - {keys: "1", say: [yes], go: desk, label: 'the "yes" answer'}
                - {keys: "2", say: [no], go: desk}
          desk:
            transfer: {to: [queue:support]}
        ''')
    assert problems == []
    assert '[label="1: the \\"yes\\" answer"]' in graph.dot(flow)
    assert '"1: the #quot;yes#quot; answer"' in graph.mermaid(flow)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_accepts_the_dot(tricky):
    done = subprocess.run(["dot", "-Tsvg"], input=graph.dot(tricky), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_the_demo_is_drawn_top_down_in_areas_of_the_main_menu(demo):
    top, parts = graph.areas(demo)
    assert top == ["main"]
    titles = [a.title for a in parts]
    assert titles[:4] == ["1: order status", "2: account balance", "3: store hours", "9: Korean"]
    assert {"outside business hours", "holiday", "shared", "people and messages"} <= set(titles)
    by_title = {a.title: a.nodes for a in parts}
    assert by_title["1: order status"][:3] == ["order", "order_lookup", "order_status"]
    assert "balance_check" in by_title["2: account balance"]
    assert by_title["shared"] == ["anything_else", "goodbye"]  # several options lead there
    assert by_title["people and messages"] == ["front_desk", "leave_message"]  # the operator's target too
    drawn = [n for a in parts for n in a.nodes] + top
    assert sorted(drawn) == sorted(demo.nodes)  # every node once
    text = graph.dot(demo)
    assert "rankdir=TB;" in text and "rankdir=LR" not in text
    assert text.count("subgraph cluster_") == len(parts)
    assert 'label="1: order status";' in text
    assert "subgraph area1[\"1: order status\"]" in graph.mermaid(demo)


def test_a_goto_shows_the_flow_it_continues_in(demo):
    assert '"korean" [label="korean\\ngoto\\nto flow acme-support-ko"' in graph.dot(demo)
    assert '"korean<br/><i>goto</i><br/>to flow acme-support-ko"' in graph.mermaid(demo)


def test_a_flow_without_a_menu_is_drawn_without_areas(check):
    flow, problems = check('''\
        flow: plain
        operator: {to: desk}
        start: hello
        nodes:
          hello:
            say: "Hello."
            go: desk
          desk:
            transfer: {to: [queue:support]}
        ''')
    assert problems == []
    assert graph.areas(flow) == ([], [])
    assert "subgraph" not in graph.dot(flow)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_render_draws_svg_and_png(demo):
    assert graph.render(graph.dot(demo), "png").startswith(b"\x89PNG\r\n\x1a\n")
    assert b"<svg" in graph.render(graph.dot(demo), "svg")


def test_render_says_what_to_install_without_graphviz(demo, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(graph.GraphvizMissing, match="apt-get install graphviz"):
        graph.render(graph.dot(demo), "svg")
