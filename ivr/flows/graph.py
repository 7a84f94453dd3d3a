"""A flow as a graph: its edges (the written ones and the escapes the engine adds), and
drawings of it as Mermaid or Graphviz DOT for ``ivr graph``.

Rules of this file: ``edges`` is the one place that knows where a call can go next.
What is particular to a kind (its edges, the outcomes the engine sends to a person, its
labels and shapes) comes from the node and its kind (``KINDS.of(node)``).
Besides each node's own ``go``/options/outcomes, the engine moves a call on its own:
from every prompt to the operator's target (0 or "agent"), to the retry target when
tries run out, to the escalation target when the caller is upset, and from a lookup
without ``error:`` to a person. The checks walk these edges; the drawings show the
prompt-wide escapes once, as dashed arrows from a box of their own, not on every node.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ivr.model.flow import Flow, Node

from .nodes import KINDS

__all__ = ["Edge", "edges", "successors", "entry_points", "person_target", "retry_target", "cycles",
           "cycle_through", "mermaid", "dot"]


@dataclass(frozen=True)
class Edge:
    source: str
    label: str
    target: str
    implicit: bool = False  # taken by the engine (operator, retries, escalation), not written on the node


def person_target(flow: Flow) -> str:
    """Where the engine sends a call it escalates: the escalation target, else the operator's."""
    return flow.escalation.to or flow.operator.to


def retry_target(flow: Flow) -> str:
    return flow.retry.then or person_target(flow)


def entry_points(flow: Flow) -> list[tuple[str, str]]:
    """(label, node id) of every node a call can begin at or be sent to by the engine."""
    out = [("start", flow.start), ("hours.closed", flow.after_hours), ("hours.holiday", flow.holiday_start),
           ("operator.to", flow.operator.to), ("retry.then", flow.retry.then), ("escalation.to", flow.escalation.to)]
    return [(label, node) for label, node in out if node and node in flow.nodes]


def edges(flow: Flow, implicit: bool = True) -> list[Edge]:
    """Every way from one node to another, in file order; targets that are not nodes are left out."""
    out: list[Edge] = []
    for node in flow.nodes.values():
        for label, target in node.edges():
            if target in flow.nodes:
                out.append(Edge(node.id, label, target))
        if implicit:
            out.extend(_escapes(flow, node))
    return out


def _escapes(flow: Flow, node: Node) -> list[Edge]:
    found: list[tuple[str, str]] = []
    if node.listens:
        if not node.operator_off and flow.operator.to:
            found.append(("operator", flow.operator.to))
        found.append(("retries used up", retry_target(flow)))
        found.append(("escalation", person_target(flow)))
    found.extend((label, person_target(flow)) for label in KINDS.of(node).person_exits(node))
    return [Edge(node.id, label, target, True) for label, target in found if target in flow.nodes]


def successors(flow: Flow, implicit: bool = True) -> dict[str, list[Edge]]:
    out: dict[str, list[Edge]] = {node_id: [] for node_id in flow.nodes}
    for edge in edges(flow, implicit):
        out[edge.source].append(edge)
    return out


# --- loops -----------------------------------------------------------------------------

def cycles(graph: dict[str, list[str]]) -> list[set[str]]:
    """Strongly connected parts of ``graph`` that contain a cycle (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                part = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    part.add(member)
                    if member == node:
                        break
                if len(part) > 1 or node in graph[node]:
                    out.append(part)
    return out


def cycle_through(graph: dict[str, list[str]], part: set[str], first: str) -> list[str]:
    """A shortest cycle through ``first`` inside ``part``, as node ids (first ... first)."""
    back: dict[str, str | None] = {first: None}
    queue = deque([first])
    while queue:
        node = queue.popleft()
        for child in graph[node]:
            if child == first:
                path = [node]
                before = back[node]
                while before is not None:
                    path.append(before)
                    before = back[before]
                return [*reversed(path), first]
            if child in part and child not in back:
                back[child] = node
                queue.append(child)
    return [first, first]


# --- drawings ------------------------------------------------------------------------

def _escape_boxes(flow: Flow) -> list[tuple[str, str]]:
    """(text, target) for the prompt-wide escapes, each drawn once."""
    boxes = []
    if flow.operator.to in flow.nodes:
        said = "/".join(f"'{p}'" for p in flow.operator.phrases[:2])
        boxes.append((f"any prompt: {flow.operator.digit or 'no key'} or {said}", flow.operator.to))
    if flow.retry.then in flow.nodes and flow.retry.then != flow.operator.to:
        boxes.append(("retries used up", flow.retry.then))
    if flow.escalation.to in flow.nodes and flow.escalation.to != flow.operator.to:
        boxes.append(("caller upset (escalation)", flow.escalation.to))
    return boxes


def _plain_edges(flow: Flow) -> list[tuple[str, str, str, bool]]:
    """(source, label, target, dashed) for the drawings: written edges plus lookup errors."""
    out = []
    for edge in edges(flow, implicit=True):
        node = flow.nodes[edge.source]
        if not edge.implicit:
            out.append((edge.source, KINDS.of(node).edge_label(node, edge.label, edge.target), edge.target, False))
        elif edge.label == "error":
            out.append((edge.source, "error", edge.target, True))
    return out


def mermaid(flow: Flow) -> str:
    """A Mermaid flowchart: ``ivr graph NAME`` (paste into Markdown or mermaid.live)."""
    ids = {node_id: f"n{i}" for i, node_id in enumerate(flow.nodes, 1)}
    lines = ["flowchart TD", f"    %% flow {flow.name}"]
    for node_id, node in flow.nodes.items():
        text = _mm(f"{node_id}<br/><i>{node.kind}</i>")
        lines.append(f"    {ids[node_id]}{KINDS.of(node).mermaid_shape % text}")
    lines.append(f'    call_starts(("call")) --> {ids[flow.start]}' if flow.start in ids else "")
    if flow.after_hours in ids:
        lines.append(f'    call_starts -->|"closed"| {ids[flow.after_hours]}')
    if flow.holiday_start in ids:
        lines.append(f'    call_starts -->|"holiday"| {ids[flow.holiday_start]}')
    for i, (text, target) in enumerate(_escape_boxes(flow), 1):
        lines.append(f'    escape{i}(["{_mm(text)}"]) -.-> {ids[target]}')
    for source, label, target, dashed in _plain_edges(flow):
        arrow = "-.->" if dashed else "-->"
        lines.append(f'    {ids[source]} {arrow}|"{_mm(label)}"| {ids[target]}')
    lines.append("    classDef person fill:#e6f4ea,stroke:#188038")
    people = [ids[n.id] for n in flow.nodes.values() if KINDS.of(n).hands_over]
    if people:
        lines.append(f"    class {','.join(people)} person")
    return "\n".join(line for line in lines if line) + "\n"


def _mm(text: str) -> str:
    return text.replace('"', "#quot;")


def dot(flow: Flow) -> str:
    """Graphviz DOT: ``ivr graph NAME --dot | dot -Tsvg > flow.svg``."""
    lines = [f"digraph {_q(flow.name)} {{", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=10];']
    for node_id, node in flow.nodes.items():
        kind = KINDS.of(node)
        extra = ', style=filled, fillcolor="#e6f4ea"' if kind.hands_over else ""
        lines.append(f"  {_q(node_id)} [label={_q(node_id + chr(10) + node.kind)}, shape={kind.dot_shape}{extra}];")
    if flow.start in flow.nodes:
        lines.append('  "(call)" [shape=circle, label="call"];')
        lines.append(f'  "(call)" -> {_q(flow.start)};')
        if flow.after_hours in flow.nodes:
            lines.append(f'  "(call)" -> {_q(flow.after_hours)} [label="closed"];')
        if flow.holiday_start in flow.nodes:
            lines.append(f'  "(call)" -> {_q(flow.holiday_start)} [label="holiday"];')
    for i, (text, target) in enumerate(_escape_boxes(flow), 1):
        lines.append(f'  "(escape {i})" [shape=note, label={_q(text)}];')
        lines.append(f'  "(escape {i})" -> {_q(target)} [style=dashed];')
    for source, label, target, dashed in _plain_edges(flow):
        style = ", style=dashed" if dashed else ""
        lines.append(f"  {_q(source)} -> {_q(target)} [label={_q(label)}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
