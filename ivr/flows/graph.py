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

import shutil
import subprocess
from collections import deque
from dataclasses import dataclass, field

from ivr.model.flow import Flow, Node

from .nodes import KINDS

__all__ = ["Edge", "edges", "successors", "entry_points", "person_target", "retry_target", "cycles",
           "cycle_through", "Area", "areas", "main_menu", "mermaid", "dot", "render", "GraphvizMissing",
           "HeatFigures", "HEAT_COLOURS", "heat_level"]


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
           ("operator.to", flow.operator.to), ("operator.after_hours", flow.operator.after_hours),
           ("retry.then", flow.retry.then), ("escalation.to", flow.escalation.to)]
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


# --- areas -------------------------------------------------------------------------

@dataclass
class Area:
    """A part of the flow drawn as one box: its title and its nodes, in file order."""

    title: str
    nodes: list[str] = field(default_factory=list)


def main_menu(flow: Flow) -> str:
    """The first node from the start (written edges, breadth first) that waits for the
    caller and has several ways out; '' when there is none."""
    seen, queue = {flow.start}, deque([flow.start] if flow.start in flow.nodes else [])
    while queue:
        node = flow.nodes[queue.popleft()]
        if node.listens and len({t for _, t in node.edges() if t in flow.nodes}) > 1:
            return node.id
        for _, target in node.edges():
            if target in flow.nodes and target not in seen:
                seen.add(target)
                queue.append(target)
    return ""


def areas(flow: Flow) -> tuple[list[str], list[Area]]:
    """(the nodes above every area: the start up to the main menu, the areas)."""
    menu = main_menu(flow)
    if not menu:
        return [], []
    top = _reach(flow, [flow.start], stop={menu}) | {menu}
    top = {n for n in top if n == menu or menu in _reach(flow, [n], stop=set())}  # only what leads to the menu
    roots: list[tuple[str, str]] = []
    menu_node = flow.nodes[menu]
    for label, target in menu_node.edges():
        if target in flow.nodes and target not in top and target not in (t for _, t in roots):
            roots.append((KINDS.of(menu_node).edge_label(menu_node, label, target), target))
    owner: dict[str, int] = {}
    # where the engine itself sends callers from any prompt belongs to no one option
    shared: set[str] = {n for n in (flow.operator.to, flow.retry.then, flow.escalation.to) if n in flow.nodes} - top
    owner.update({n: -1 for n in shared})
    for i, (_, root) in enumerate(roots):
        for reached in _reach(flow, [root], stop=top):
            if reached in owner and owner[reached] != i:
                shared.add(reached)
            owner.setdefault(reached, i)
    out = [Area(title) for title, _ in roots]
    people, common = Area("people and messages"), Area("shared")
    extra: list[Area] = []
    for label, entry in (("outside business hours", flow.after_hours), ("holiday", flow.holiday_start)):
        if entry in flow.nodes and entry not in owner and entry not in top:
            extra.append(Area(label))
            for reached in _reach(flow, [entry], stop=top | set(owner)):
                owner[reached] = len(roots) + len(extra) - 1
    for node_id, node in flow.nodes.items():
        if node_id in top or node_id not in owner:
            continue
        if node_id in shared:
            kind = KINDS.of(node)
            (people if kind.hands_over or kind.stands_in else common).nodes.append(node_id)
        elif owner[node_id] < len(roots):
            out[owner[node_id]].nodes.append(node_id)
        else:
            extra[owner[node_id] - len(roots)].nodes.append(node_id)
    rest = Area("elsewhere", [n for n in flow.nodes if n not in top and n not in owner])
    ordered = [flow.start] + [n for n in flow.nodes if n in top and n != flow.start]
    return ordered, [a for a in (*out, *extra, common, people, rest) if a.nodes]


def _reach(flow: Flow, starts: list[str], stop: set[str]) -> set[str]:
    """Nodes reached from ``starts`` by written edges, not going through ``stop``."""
    seen = {s for s in starts if s in flow.nodes and s not in stop}
    queue = deque(seen)
    while queue:
        for _, target in flow.nodes[queue.popleft()].edges():
            if target in flow.nodes and target not in seen and target not in stop:
                seen.add(target)
                queue.append(target)
    return seen


# --- drawings ------------------------------------------------------------------------

def survey_box(flow: Flow) -> tuple[str, list[tuple[str, str]]]:
    """The survey after the call, drawn once: its text and (node, label) for every node
    after which it is asked (the hangups that end a served call, the transfers whose
    agent hangs up). ('', []) for a flow without a survey."""
    survey = flow.survey
    if survey is None:
        return "", []
    text = "survey after the call: 1-5 on the keypad" + (", then a spoken comment" if survey.comment else "")
    after: list[tuple[str, str]] = []
    for node in flow.nodes.values():
        kind = KINDS.of(node)
        if "self_service" in survey.offer and node.kind == "hangup":
            after.append((node.id, "served"))
        elif "agent" in survey.offer and kind.hands_over:
            after.append((node.id, "agent hung up"))
    return text, after


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


def _note(node: Node) -> str:
    return KINDS.of(node).graph_note(node)


def mermaid(flow: Flow) -> str:
    """A Mermaid flowchart, top-down with a subgraph per area: ``ivr graph NAME`` (paste
    into Markdown or mermaid.live)."""
    ids = {node_id: f"n{i}" for i, node_id in enumerate(flow.nodes, 1)}
    lines = ["flowchart TD", f"    %% flow {flow.name}"]

    def declare(node_id: str, indent: str = "    ") -> None:
        node = flow.nodes[node_id]
        note = _note(node)
        text = _mm(f"{node_id}<br/><i>{node.kind}</i>" + (f"<br/>{note}" if note else ""))
        lines.append(f"{indent}{ids[node_id]}{KINDS.of(node).mermaid_shape % text}")

    _, parts = areas(flow)
    grouped = {n for a in parts for n in a.nodes}
    for node_id in flow.nodes:
        if node_id not in grouped:
            declare(node_id)
    for i, area in enumerate(parts, 1):
        lines.append(f'    subgraph area{i}["{_mm(area.title)}"]')
        for node_id in area.nodes:
            declare(node_id, "        ")
        lines.append("    end")
    lines.append(f'    call_starts(("call")) --> {ids[flow.start]}' if flow.start in ids else "")
    if flow.after_hours in ids:
        lines.append(f'    call_starts -->|"closed"| {ids[flow.after_hours]}')
    if flow.holiday_start in ids:
        lines.append(f'    call_starts -->|"holiday"| {ids[flow.holiday_start]}')
    for i, (text, target) in enumerate(_escape_boxes(flow), 1):
        lines.append(f'    escape{i}(["{_mm(text)}"]) -.-> {ids[target]}')
    survey, after = survey_box(flow)
    if survey:
        lines.append(f'    survey[/"{_mm(survey)}"/]')
        lines.extend(f'    {ids[source]} -.-|"{_mm(label)}"| survey' for source, label in after)  # no arrowhead: after the call
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


@dataclass(frozen=True)
class HeatFigures:
    """Plain numbers for a heat map of a flow (the call records compute them; this file
    never reads a database): per node id ``(entered, hung_up, failures, visits)``, calls
    per way ``(from, to)``, and a title line (the period)."""

    nodes: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    edges: dict[tuple[str, str], int] = field(default_factory=dict)
    title: str = ""


# cool to hot (ColorBrewer's sequential Oranges, readable with black text up to the 4th)
HEAT_COLOURS = ("#ffffff", "#fee6ce", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603")
_HEAT_STEPS = (0.05, 0.15, 0.30, 0.50)  # a node's worse rate from this on: the next colour (above 0: the first)


def heat_level(entered: int, hung_up: int, failures: int, visits: int) -> int:
    """0 (nobody came, or nobody struggled) to 5 (half or more hung up, or failed): the
    worse of the drop-off rate (hung up / entered) and the failure rate (no input and no
    match per visit)."""
    if not entered:
        return 0
    rate = max(hung_up / entered, min(failures / visits, 1.0) if visits else 0.0)
    return (rate > 0) + sum(rate >= step for step in _HEAT_STEPS)


def _heat_node(node_id: str, figures: HeatFigures) -> tuple[str, str, str]:
    """(fill colour, extra label lines, tooltip) of a node on the heat map."""
    entered, hung_up, failures, visits = figures.nodes.get(node_id, (0, 0, 0, 0))
    level = heat_level(entered, hung_up, failures, visits)
    if not entered:
        return HEAT_COLOURS[0], "no calls", f"{node_id}: no calls"
    drop, fail = hung_up / entered, (failures / visits if visits else 0.0)
    text = f"{entered} calls · {hung_up} hung up ({drop:.0%})\n{failures} no input/no match ({fail:.0%} of visits)"
    return HEAT_COLOURS[level], text, f"{node_id}: {text.replace(chr(10), '; ')}"


_AREA_COLOURS = ("#f3f6fc", "#fdf6ec", "#f1f8f4", "#fbf1f5", "#f4f1fb", "#eef8f9", "#f8f8ee")


def dot(flow: Flow, heat: HeatFigures | None = None) -> str:
    """Graphviz DOT, top-down, one box per area: ``ivr graph NAME --svg flow.svg`` (or
    ``--dot | dot -Tsvg``). With ``heat``: a heat map, each node filled by how often
    callers hung up or failed there (``heat_level``), each way as thick as its traffic."""
    title = f"{flow.name}: " + (flow.description or "call flow")
    if heat is not None:
        title = f"{flow.name}: where callers struggle" + (f" ({heat.title})" if heat.title else "")
    lines = [f"digraph {_q(flow.name)} {{", "  rankdir=TB;", "  newrank=true;", "  nodesep=0.35;", "  ranksep=0.45;",
             f"  label={_q(title)};", "  labelloc=t;", "  fontsize=20;",
             '  fontname="Helvetica";',
             '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica", fontsize=12];',
             '  edge [fontname="Helvetica", fontsize=10, color="#555555"];']

    def declare(node_id: str, indent: str) -> None:
        node = flow.nodes[node_id]
        kind = KINDS.of(node)
        fill = "#e6f4ea" if kind.hands_over else "#fff4d6" if kind.stands_in else "white"
        style = "filled" if kind.dot_shape != "box" else "rounded,filled"
        note = _note(node)
        label = f"{node_id}\n{node.kind}" + (f"\n{note}" if note else "")
        extra = ""
        if heat is not None:
            fill, figures, tip = _heat_node(node_id, heat)
            label = f"{node_id}\n{node.kind}\n{figures}"
            style = "filled" if kind.dot_shape != "box" else "rounded,filled"
            extra = f", id={_q('heat-' + node_id)}, tooltip={_q(tip)}"
            if fill in HEAT_COLOURS[4:]:  # dark fills: white text
                extra += ', fontcolor="white"'
        lines.append(f"{indent}{_q(node_id)} [label={_q(label)}, shape={kind.dot_shape}, style={_q(style)}, "
                     f"fillcolor={_q(fill)}{extra}];")

    top, parts = areas(flow)
    grouped = {n for a in parts for n in a.nodes}
    for node_id in flow.nodes:
        if node_id not in grouped:
            declare(node_id, "  ")
    for i, area in enumerate(parts):
        lines.append(f"  subgraph cluster_{i} {{")
        lines.append(f"    label={_q(area.title)}; labeljust=l; fontsize=14; style=\"rounded,filled\"; "
                     f"color=\"#bbbbbb\"; fillcolor={_q(_AREA_COLOURS[i % len(_AREA_COLOURS)])};")
        for node_id in area.nodes:
            declare(node_id, "    ")
        lines.append("  }")
    if flow.start in flow.nodes:
        lines.append('  "(call)" [shape=circle, label="call", style=filled, fillcolor="#dddddd"];')
        lines.append(f'  "(call)" -> {_q(flow.start)};')
        if flow.after_hours in flow.nodes:
            lines.append(f'  "(call)" -> {_q(flow.after_hours)} [label="closed"];')
        if flow.holiday_start in flow.nodes:
            lines.append(f'  "(call)" -> {_q(flow.holiday_start)} [label="holiday"];')
    for i, (text, target) in enumerate(_escape_boxes(flow), 1):
        lines.append(f'  "(escape {i})" [shape=note, style=filled, fillcolor="#fff8c4", label={_q(text)}];')
        lines.append(f'  "(escape {i})" -> {_q(target)} [style=dashed];')
    survey, after = survey_box(flow)
    if survey:
        lines.append(f'  "(survey)" [shape=parallelogram, style=filled, fillcolor="#e8f0fe", label={_q(survey)}];')
        lines.extend(f'  {_q(source)} -> "(survey)" [style=dashed, label={_q(label)}, color="#5b7bd5"];'
                     for source, label in after)
    if top:
        rank = " ".join(_q(n) for n in ["(call)", *(f"(escape {i})" for i in range(1, len(_escape_boxes(flow)) + 1))]
                        if flow.start in flow.nodes or n != "(call)")
        lines.append(f"  {{rank=min; {rank}}}")
    drawn: set[tuple[str, str]] = set()
    busiest = max(heat.edges.values(), default=0) if heat is not None else 0
    for source, label, target, dashed in _plain_edges(flow):
        style = ', style=dashed, constraint=false, color="#999999", fontcolor="#777777"' if dashed else ""
        if heat is not None:
            label, style = _heat_edge(label, heat.edges.get((source, target), 0), busiest, dashed)
            drawn.add((source, target))
        lines.append(f"  {_q(source)} -> {_q(target)} [label={_q(label)}{style}];")
    if heat is not None:  # ways the engine took on its own (operator, retries, escalation) that callers used
        for (source, target), count in sorted(heat.edges.items()):
            if (source, target) not in drawn and source in flow.nodes and target in flow.nodes and count:
                label, style = _heat_edge("", count, busiest, True)
                lines.append(f"  {_q(source)} -> {_q(target)} [label={_q(label)}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _heat_edge(label: str, count: int, busiest: int, dashed: bool) -> tuple[str, str]:
    """(label, attributes) of a way on the heat map: as thick as its share of the busiest."""
    width = 1.0 + 5.0 * count / busiest if busiest else 1.0
    text = f"{label} ({count})" if label else f"{count}"
    colour = "#444444" if count else "#bbbbbb"
    style = ', style=dashed, constraint=false' if dashed else ""
    return text, f', penwidth={width:.1f}, color="{colour}", fontcolor="{colour}"{style}'



def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class GraphvizMissing(RuntimeError):
    """Graphviz's ``dot`` command is not installed (or not on PATH)."""


def render(dot_text: str, fmt: str, timeout: float = 60) -> bytes:
    """``dot_text`` drawn as ``fmt`` (svg or png) by Graphviz's ``dot``; raises
    ``GraphvizMissing``, or ``RuntimeError`` with what ``dot`` said."""
    program = shutil.which("dot")
    if program is None:
        raise GraphvizMissing("Graphviz's 'dot' command is not installed: install Graphviz "
                              "(Debian/Ubuntu: apt-get install graphviz), or print DOT with --dot")
    done = subprocess.run([program, f"-T{fmt}"], input=dot_text.encode("utf-8"), capture_output=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"Graphviz could not draw the flow: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout
