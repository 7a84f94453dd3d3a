"""Checks over a whole flow, after every node has been read: the graph, the escape to a
person, menus, templates and transfers. Each problem is appended to the context, so a
file with five mistakes gives five messages.

Rules of this file: a check never raises on a flow the reader already found broken (a
missing target is skipped here; the loader has reported it). Positions come from the
YAML tree (``ctx.root``) so a message points at the offending value (the key '0', the
phrase "agent", the ``{order_id}`` inside a prompt), falling back to the node.
"""
from __future__ import annotations

import difflib
import re
from collections import deque
from typing import Iterable

from ivr.flows.nodes.branch import BUILT_IN_VARS, BranchNode
from ivr.flows.nodes.collect import CollectNode
from ivr.flows.nodes.lookup import LookupNode
from ivr.flows.nodes.menu import MenuNode
from ivr.flows.nodes.transfer import TransferNode
from ivr.model.targets import target_kind
from ivr.understanding.person import asks_for_person
from ivr.understanding.text import normalize

from .graph import AUTOMATIC, Edge, cycle_through, cycles, entry_points, successors
from ivr.model.flow import Flow, Node, template_fields
from ivr.model.problems import Where, did_you_mean
from .reader import Context
from .yamlpos import Y

LOOKUP = "lookup"  # the dataflow fact "a lookup found a record on every path here"


def check_flow(flow: Flow, ctx: Context) -> None:
    """Append every problem of ``flow`` to ``ctx.problems``."""
    succ = successors(flow)
    reached = _reachable(flow, ctx, succ)
    _loops(flow, ctx)
    _escape(flow, ctx)
    for node in flow.nodes.values():
        if isinstance(node, MenuNode):
            _menu(flow, ctx, node)
        elif isinstance(node, TransferNode) and node.targets and not node.fallback \
                and not any(target_kind(t) == "queue" for t in node.targets):
            ctx.warn(_at(ctx, node, "to"), f"when nobody answers transfer '{node.id}', the caller is sent to voicemail",
                     "add a queue:NAME target or a 'fallback:' node if that is not what you want")
        elif node.kind == "hangup" and not node.prompt:
            ctx.warn(_node_where(ctx, node), f"hangup '{node.id}' ends the call without a word",
                     'say goodbye first, e.g. hangup: "Thanks for calling. Goodbye."')
    _templates(flow, ctx, succ, reached)


# --- positions -----------------------------------------------------------------------

def _y(y: Y | None, *path) -> Y | None:
    for step in path:
        if y is None:
            return None
        if isinstance(step, int):
            y = y.value[step] if isinstance(y.value, list) and step < len(y.value) else None
        else:
            y = y.value.get(step) if isinstance(y.value, dict) else None
    return y


def _body(ctx: Context, node: Node) -> Y | None:
    return _y(ctx.root, "nodes", node.id, node.kind)


def _at(ctx: Context, node: Node, *path) -> Where:
    y = _y(_body(ctx, node), *path)
    return y.where if y is not None else _node_where(ctx, node)


def _option_y(ctx: Context, node: MenuNode, i: int) -> Y | None:
    """The YAML of ``node.options[i]`` (options that were not mappings were skipped)."""
    items = _y(_body(ctx, node), "options")
    read = [y for y in (items.value if items is not None and isinstance(items.value, list) else [])
            if isinstance(y.value, dict)]
    return read[i] if i < len(read) else None


def _option_where(ctx: Context, node: MenuNode, i: int, key: str) -> Where:
    y = _option_y(ctx, node, i)
    found = _y(y, key)
    return found.where if found is not None else y.where if y is not None else _node_where(ctx, node)


def _node_where(ctx: Context, node: Node) -> Where:
    nodes = _y(ctx.root, "nodes")
    return nodes.key_where.get(node.id, node.where) if nodes is not None else node.where


def _top_where(ctx: Context, key: str = "") -> Where:
    """The key of a top-level setting (e.g. 'operator'), else the first key of the file."""
    root = ctx.root
    if root is None or not isinstance(root.value, dict):
        return Where(ctx.file, 1, 1)
    return root.key_where.get(key, root.where) if key else root.where


def _ref_where(flow: Flow, label: str, default: Where) -> Where:
    return next((r.where for r in flow.refs if r.label == label), default)


def _in_text(ctx: Context, where: Where, field: str) -> Where:
    """Where ``{field}`` stands inside a text value starting at ``where`` (folded text may
    run over the next lines); ``where`` itself when it cannot be found."""
    pattern = re.compile(r"\{" + re.escape(field) + r"[}!:]")
    for n in range(where.line - 1, min(where.line + 12, len(ctx.lines))):
        found = pattern.search(ctx.lines[n], where.col - 1 if n == where.line - 1 else 0)
        if found:
            return Where(where.file, n + 1, found.start() + 1)
    return where


# --- reachability and loops ----------------------------------------------------------

def _reachable(flow: Flow, ctx: Context, succ: dict[str, list[Edge]]) -> set[str]:
    seen = {node for _, node in entry_points(flow)}
    # A 'go' with a typo was reported with "did you mean"; the node it meant is not
    # reported again as unreachable (nor what follows it).
    for ref in flow.refs:
        if ref.target and ref.target not in flow.nodes:
            seen.update(difflib.get_close_matches(ref.target, list(flow.nodes), n=1, cutoff=0.6))
    queue = deque(seen)
    while queue:
        for edge in succ[queue.popleft()]:
            if edge.target not in seen:
                seen.add(edge.target)
                queue.append(edge.target)
    written = _y(ctx.root, "nodes")
    unread = written is not None and isinstance(written.value, dict) and set(written.value) - set(flow.nodes)
    if unread or flow.start not in flow.nodes:
        return seen  # a node that could not be read hides its edges: reachability would guess
    for node in flow.nodes.values():
        if node.id not in seen:
            ctx.error(_node_where(ctx, node), f"{node.kind} '{node.id}' can never be reached",
                      f"nothing leads here from start '{flow.start}': send a 'go' (or an option) to it, or delete it")
    return seen


def _loops(flow: Flow, ctx: Context) -> None:
    """A loop of nodes that never wait for the caller runs forever (say -> branch -> say)."""
    looping = AUTOMATIC + ("transfer",)
    graph = {n.id: [t for _, t in n.edges() if t in flow.nodes and flow.nodes[t].kind in looping]
             for n in flow.nodes.values() if n.kind in looping}
    for component in cycles(graph):
        first = min(component, key=list(flow.nodes).index)
        path = cycle_through(graph, component, first)
        names = " -> ".join(path)
        node = flow.nodes[first]
        ctx.error(_node_where(ctx, node), f"endless loop without a prompt: {names}",
                  "the caller is never asked anything on this loop; put a menu or collect in it, "
                  "or end it with a transfer, voicemail or hangup")


# --- the escape to a person ----------------------------------------------------------

def _ends(flow: Flow, start: str) -> list[Node]:
    """The first node that is not automatic on each path from ``start``."""
    seen, out, queue = {start}, [], deque([start])
    while queue:
        node = flow.nodes[queue.popleft()]
        if node.kind not in AUTOMATIC:
            out.append(node)
            continue
        for _, target in node.edges():
            if target in flow.nodes and target not in seen:
                seen.add(target)
                queue.append(target)
    return out


def _not_a_person(flow: Flow, target: str) -> str:
    """'' when ``target`` is a transfer or only leads (without a prompt) to people or messages."""
    ends = _ends(flow, target)
    bad = next((n for n in ends if n.kind not in ("transfer", "voicemail", "callback")), None)
    if bad is None and any(n.kind == "transfer" for n in ends):
        return ""
    if bad is None:
        return f"'{target}' never reaches a transfer"
    if bad.id == target:
        return f"'{target}' is a {bad.kind}, not a transfer"
    return f"'{target}' leads to {bad.kind} '{bad.id}', not to a transfer"


def _escape(flow: Flow, ctx: Context) -> None:
    listening = [n for n in flow.nodes.values() if n.listens]
    open_ = [n for n in listening if not getattr(n, "operator_off", "")]
    for label, target in (("retry.then", flow.retry.then), ("escalation.to", flow.escalation.to)):
        if target in flow.nodes:
            why = _not_a_person(flow, target)
            if why:
                ctx.warn(_ref_where(flow, label, _top_where(ctx)), f"{label} {why}",
                         "callers who get stuck or upset are usually best helped by a person: name a transfer node")
    if flow.operator.to in flow.nodes:
        why = _not_a_person(flow, flow.operator.to)
        if why:
            ctx.error(_ref_where(flow, "operator.to", _top_where(ctx, "operator")), f"operator.to {why}",
                      "callers who press the operator key or ask for a person must reach one: name a transfer node")
    if flow.operator.to:
        return
    if open_:
        names = ", ".join(f"'{n.id}'" for n in open_[:3]) + (" ..." if len(open_) > 3 else "")
        ctx.error(_top_where(ctx, "operator"), f"callers at {names} cannot reach a person: the operator escape has no 'to'",
                  "add operator: {to: NODE} naming a transfer node; a prompt may opt out with operator_off: \"reason\"")
        return  # the same missing target would be reported again below
    if listening and not flow.retry.then and not flow.escalation.to:
        ctx.error(_top_where(ctx, "retry"), "when a caller's tries run out, the call has nowhere to go",
                  "set retry: {then: NODE} or operator: {to: NODE}")
    if flow.escalation.to:
        return
    for node in flow.nodes.values():
        if isinstance(node, LookupNode) and not node.error:
            ctx.error(_node_where(ctx, node), f"when lookup '{node.id}' fails, the call has nowhere to go",
                      "add 'error: NODE' to the lookup, or set operator.to")
        if isinstance(node, MenuNode):
            for i, option in enumerate(node.options):
                if option.human:
                    ctx.error(_option_where(ctx, node, i, "human"), f"option '{option.label}' of menu '{node.id}' needs a person, "
                              "but the flow names no transfer for that", "set operator.to or escalation.to")


# --- menus ---------------------------------------------------------------------------

def _phrase_items(y: Y | None) -> list[Y]:
    if y is None:
        return []
    return y.value if isinstance(y.value, list) else [y]


def _menu(flow: Flow, ctx: Context, node: MenuNode) -> None:
    operator = flow.operator
    escape_on = not node.operator_off
    keys: dict[str, int] = {}
    phrases: dict[str, int] = {}
    for i, option in enumerate(node.options):
        keys_where = _option_where(ctx, node, i, "keys")
        k = option.keys
        if k:
            if k in keys:
                ctx.error(keys_where, f"key '{k}' is already option {keys[k] + 1} of menu '{node.id}'",
                          f"give each option its own key; line {node.options[keys[k]].where.line}")
            elif escape_on and operator.digit and k.startswith(operator.digit):
                ctx.error(keys_where, f"key '{k}' of menu '{node.id}' clashes with the operator key '{operator.digit}'",
                          "pick another key, or opt the menu out with operator_off: \"reason\"")
            else:
                clash = next((other for other in keys if other.startswith(k) or k.startswith(other)), None)
                if clash is not None:
                    short, long_ = sorted((k, clash), key=len)
                    ctx.error(keys_where, f"keys '{long_}' start with '{short}', another option of menu '{node.id}'",
                              f"a caller pressing {short} would have to wait to see if more keys follow; use keys of one length")
                keys.setdefault(k, i)
        items = _phrase_items(_y(_option_y(ctx, node, i), "say"))
        for j, phrase in enumerate(option.phrases):
            where = items[j].where if j < len(items) else _option_where(ctx, node, i, "say")
            norm = normalize(phrase)
            if not norm:
                continue
            if norm in phrases and phrases[norm] != i:
                ctx.error(where, f"'{phrase}' is said for option {phrases[norm] + 1} and option {i + 1} of menu '{node.id}'",
                          "a phrase can pick only one option; keep it on one of them")
            phrases.setdefault(norm, i)
            if escape_on and asks_for_person(phrase, operator.phrases):
                message = f"'{phrase}' asks for a person: the operator escape catches it before option {i + 1} of menu '{node.id}'"
                if option.go == operator.to:
                    ctx.warn(where, message, "the caller reaches the operator's target either way; you may drop the phrase")
                else:
                    ctx.error(where, message, "reword the phrase, or opt the menu out with operator_off: \"reason\"")
    if len(node.options) == 1:
        ctx.warn(_at(ctx, node, "options"), f"menu '{node.id}' has a single option",
                 "a menu offers a choice; use a say or collect node, or add the other options")


# --- templates: slots set on every path ----------------------------------------------

def _gen_kill(flow: Flow, edge: Edge) -> tuple[str, str]:
    """(fact set, fact cleared) by going along ``edge``."""
    node = flow.nodes[edge.source]
    if edge.implicit:
        return "", ""
    if isinstance(node, CollectNode):
        return node.slot.name, ""
    if isinstance(node, LookupNode):
        return (LOOKUP, "") if edge.label == "found" else ("", LOOKUP)
    return "", ""


def _must_have(flow: Flow, succ: dict[str, list[Edge]], universe: frozenset[str]) -> dict[str, frozenset[str]]:
    """For each node, the facts (slot names, LOOKUP) that hold on every path to it."""
    entries = {node for _, node in entry_points(flow)}
    facts = {node: (frozenset() if node in entries else universe) for node in flow.nodes}
    queue = deque(entries)
    while queue:
        node = queue.popleft()
        for edge in succ[node]:
            gen, kill = _gen_kill(flow, edge)
            out = (facts[node] | ({gen} if gen else set())) - {kill}
            new = facts[edge.target] & out
            if new != facts[edge.target]:
                facts[edge.target] = new
                queue.append(edge.target)
    return facts


def _path_without(flow: Flow, succ: dict[str, list[Edge]], fact: str, goal: str) -> list[str]:
    """A path from an entry to ``goal`` on which ``fact`` is not set (for the hint)."""
    starts = [(node, True) for _, node in entry_points(flow)]
    back: dict[tuple[str, bool], tuple[str, bool] | None] = {s: None for s in starts}
    queue = deque(starts)
    while queue:
        state = queue.popleft()
        if state == (goal, True):
            path = [state[0]]
            while back[state] is not None:
                state = back[state]
                path.append(state[0])
            return path[::-1]
        for edge in succ[state[0]]:
            gen, kill = _gen_kill(flow, edge)
            absent = (state[1] and gen != fact) or kill == fact
            nxt = (edge.target, absent)
            if nxt not in back:
                back[nxt] = state
                queue.append(nxt)
    return []


def _templates(flow: Flow, ctx: Context, succ: dict[str, list[Edge]], reached: set[str]) -> None:
    slots = {n.slot.name for n in flow.nodes.values() if isinstance(n, CollectNode)}
    universe = frozenset(slots | {LOOKUP})
    facts = _must_have(flow, succ, universe)

    def check(node: Node, name: str, where: Where, what: str, exempt: bool = False) -> None:
        have = facts[node.id]
        if name == "caller" or (name in BUILT_IN_VARS and what == "variable"):
            return
        if name.startswith("lookup."):
            if LOOKUP not in have:
                path = _path_without(flow, succ, LOOKUP, node.id)
                ctx.error(where, f"{what} '{name}' is used where no lookup has found a record",
                          "use lookup fields only after a lookup's 'found:'" + (f"; e.g. {' -> '.join(path)}" if path else ""))
            return
        if name not in slots:
            known = sorted(slots) + ["caller"] + ([*BUILT_IN_VARS] if what == "variable" else [])
            ctx.error(where, f"{what} '{name}' is not a slot of this flow",
                      did_you_mean(name, known) or "slots are set by collect nodes, e.g. slot: {name: order_id}")
        elif name not in have and not exempt:
            path = _path_without(flow, succ, name, node.id)
            ctx.error(where, f"{what} '{name}' may not be set when the call reaches {node.kind} '{node.id}'",
                      (f"on the path {' -> '.join(path)} no collect sets it" if path else "no collect sets it on every path")
                      + "; collect it first or move the field")

    for node in flow.nodes.values():
        if node.id not in reached:
            continue  # reported as unreachable; nothing flows into it
        for prompt in node.prompts():
            for name in _fields(prompt.text, *(v.text for v in prompt.variants.values())):
                check(node, name, _in_text(ctx, prompt.where, name), "field")
        if isinstance(node, LookupNode):
            where = _at(ctx, node, "http", "url") if node.url else _at(ctx, node, "table", "key")
            for name in _fields(*node.templates):
                check(node, name, _in_text(ctx, where, name), "field")
        if isinstance(node, BranchNode):
            for var, where, only_set in _branch_vars(ctx, node):
                check(node, var, where, "variable", exempt=only_set)


def _fields(*texts: str) -> list[str]:
    names: list[str] = []
    for text in texts:
        try:
            names.extend(name for name in template_fields(text) if name not in names)
        except ValueError:
            pass  # reported by the reader
    return names


def _branch_vars(ctx: Context, node: BranchNode) -> Iterable[tuple[str, Where, bool]]:
    """(variable, where it is written, tested only with 'set') for each variable of each case."""
    body = _body(ctx, node)
    items = [y for y in (body.value if body is not None and isinstance(body.value, list) else [])
             if isinstance(y.value, dict) and "else" not in y.value]
    for i, case in enumerate(node.cases):
        cond = _y(items[i], "if") if i < len(items) else None
        for var in dict.fromkeys(t.var for t in case.tests):
            where = cond.key_where.get(var, cond.where) if cond is not None and isinstance(cond.value, dict) \
                else _node_where(ctx, node)
            yield var, where, all(t.op == "set" for t in case.tests if t.var == var)
