"""Checks over a whole flow, after every node has been read: the graph, the escape to a
person, menus, templates and transfers. Each problem is appended to the context, so a
file with five mistakes gives five messages.

What is particular to one kind (a menu's keys and phrases, a transfer without a
fallback, a hangup without a goodbye) is that kind's ``check`` hook; this file holds
what spans nodes and asks each node's kind (``KINDS.of(node)``) for its part.

Rules of this file: a check never raises on a flow the reader already found broken (a
missing target is skipped here; the loader has reported it). Positions come from the
YAML tree (``ctx.root``, see ``positions``) so a message points at the offending value
(the key '0', the phrase "agent", the ``{order_id}`` inside a prompt), falling back to
the node.
"""
from __future__ import annotations

import difflib
from collections import deque
from contextlib import suppress
from dataclasses import replace

from ivr.model.flow import Flow, Node, template_fields
from ivr.model.problems import Problem, Where, did_you_mean
from ivr.model.targets import LANGUAGE, AgentPool

from .graph import Edge, cycle_through, cycles, entry_points, successors
from .nodes import KINDS
from .nodes.base import LOOKUP_FOUND, FieldUse
from .positions import at, body, find, in_text, node_where, ref_where, top_where
from .reader import Context
from .yamlpos import Y, parse_yaml

__all__ = ["check_flow", "memory_languages_across"]


def check_flow(flow: Flow, ctx: Context) -> None:
    """Append every problem of ``flow`` to ``ctx.problems``."""
    succ = successors(flow)
    reached = _reachable(flow, ctx, succ)
    _loops(flow, ctx)
    _escape(flow, ctx)
    for node in flow.nodes.values():
        KINDS.of(node).check(node, flow, ctx)
    _templates(flow, ctx, succ, reached)
    _memory(flow, ctx)
    _staffed(flow, ctx)


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
    written = find(ctx.root, "nodes")
    unread = written is not None and isinstance(written.value, dict) and set(written.value) - set(flow.nodes)
    if unread or flow.start not in flow.nodes:
        return seen  # a node that could not be read hides its edges: reachability would guess
    heads = _unreached_heads(flow, succ, seen)
    if heads and ctx.dangling and len(heads) <= len(ctx.dangling):
        # A reference whose target is missing explains them: say so there, once.
        names = ", ".join(f"'{head}'" for head, _ in heads)
        which = "is that where it should go?" if len(heads) == 1 else "is one of them where it should go?"
        for problem in list(ctx.dangling):
            ctx.replace(problem, replace(problem, hint=f"{problem.hint}; nothing leads to {names} yet: {which}"))
        return seen
    for head, after in heads:
        node = flow.nodes[head]
        also = f" (nor can {_names(after)} after it)" if after else ""
        ctx.error(node_where(ctx, node), f"{node.kind} '{node.id}' can never be reached{also}",
                  f"nothing leads here from start '{flow.start}': send a 'go' (or an option) to it, or delete it")
    return seen


def _unreached_heads(flow: Flow, succ: dict[str, list[Edge]], seen: set[str]) -> list[tuple[str, list[str]]]:
    """The nodes a call never reaches, as (head, the nodes only reached through it): a
    head is reached from no other unreached node (of a loop of them, the first written)."""
    order = list(flow.nodes)
    unreached = [n for n in order if n not in seen]
    reach: dict[str, set[str]] = {}
    for node in unreached:
        found, queue = set(), deque([node])
        while queue:
            for edge in succ[queue.popleft()]:
                if edge.target not in seen and edge.target not in found:
                    found.add(edge.target)
                    queue.append(edge.target)
        reach[node] = found
    heads = [n for n in unreached
             if not any(n in reach[m] and (m not in reach[n] or order.index(m) < order.index(n))
                        for m in unreached if m != n)]
    claimed: set[str] = set(heads)
    out = []
    for head in heads:
        after = [n for n in unreached if n in reach[head] and n not in claimed]
        claimed.update(after)
        out.append((head, after))
    return out


def _names(ids: list[str]) -> str:
    shown = ", ".join(f"'{i}'" for i in ids[:4])
    return shown + (f" and {len(ids) - 4} more" if len(ids) > 4 else "")


def _never_asks(node: Node) -> bool:
    """The node goes on without asking the caller anything: an automatic node, or a
    transfer (when nobody answers, its fallback follows without a prompt)."""
    kind = KINDS.of(node)
    return kind.automatic or kind.hands_over


def _loops(flow: Flow, ctx: Context) -> None:
    """A loop of nodes that never wait for the caller runs forever (say -> branch -> say)."""
    graph = {n.id: [t for _, t in n.edges() if t in flow.nodes and _never_asks(flow.nodes[t])]
             for n in flow.nodes.values() if _never_asks(n)}
    for component in cycles(graph):
        first = min(component, key=list(flow.nodes).index)
        path = cycle_through(graph, component, first)
        names = " -> ".join(path)
        node = flow.nodes[first]
        ctx.error(node_where(ctx, node), f"endless loop without a prompt: {names}",
                  "the caller is never asked anything on this loop; put a menu or collect in it, "
                  "or end it with a transfer, voicemail or hangup")


# --- the escape to a person ----------------------------------------------------------

def _ends(flow: Flow, start: str) -> list[Node]:
    """The first node that is not automatic on each path from ``start``."""
    seen, out, queue = {start}, [], deque([start])
    while queue:
        node = flow.nodes[queue.popleft()]
        if not KINDS.of(node).automatic:
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
    bad = next((n for n in ends if not (KINDS.of(n).hands_over or KINDS.of(n).stands_in)), None)
    if bad is None and any(KINDS.of(n).hands_over for n in ends):
        return ""
    if bad is None:
        return f"'{target}' never reaches a transfer"
    if bad.id == target:
        return f"'{target}' is a {bad.kind}, not a transfer"
    return f"'{target}' leads to {bad.kind} '{bad.id}', not to a transfer"


def _escape(flow: Flow, ctx: Context) -> None:
    listening = [n for n in flow.nodes.values() if n.listens]
    open_ = [n for n in listening if not n.operator_off]
    for label, target in (("retry.then", flow.retry.then), ("escalation.to", flow.escalation.to)):
        if target in flow.nodes:
            why = _not_a_person(flow, target)
            if why:
                ctx.warn(ref_where(flow, label, top_where(ctx)), f"{label} {why}",
                         "callers who get stuck or upset are usually best helped by a person: name a transfer node")
    if flow.operator.to in flow.nodes:
        why = _not_a_person(flow, flow.operator.to)
        if why:
            ctx.error(ref_where(flow, "operator.to", top_where(ctx, "operator")), f"operator.to {why}",
                      "callers who press the operator key or ask for a person must reach one: name a transfer node")
    _after_hours(flow, ctx)
    if flow.operator.to:
        return
    if open_:
        names = ", ".join(f"'{n.id}'" for n in open_[:3]) + (" ..." if len(open_) > 3 else "")
        ctx.error(top_where(ctx, "operator"), f"callers at {names} cannot reach a person: the operator escape has no 'to'",
                  "add operator: {to: NODE} naming a transfer node; a prompt may opt out with operator_off: \"reason\"")
        return  # the same missing target would be reported again below
    if listening and not flow.retry.then and not flow.escalation.to:
        ctx.error(top_where(ctx, "retry"), "when a caller's tries run out, the call has nowhere to go",
                  "set retry: {then: NODE} or operator: {to: NODE}")
    if flow.escalation.to:
        return
    for node in flow.nodes.values():
        KINDS.of(node).check_without_person(node, flow, ctx)


def _after_hours(flow: Flow, ctx: Context) -> None:
    """Out of hours the way to a person leads to a message or a callback promise (the
    operator's ``after_hours`` node, else the transfer's own voicemail or callback
    fallback: ``ivr.engine.call.after_hours_instead``)."""
    where = ref_where(flow, "operator.after_hours", top_where(ctx, "operator"))
    target = flow.nodes.get(flow.operator.after_hours)
    if target is not None and not KINDS.of(target).stands_in:
        ctx.error(where, f"operator.after_hours '{target.id}' is a {target.kind}, not a voicemail or callback",
                  "while the line is closed nobody can take the call: name a voicemail or callback node")


# --- the caller memory's settings ---------------------------------------------------------

def _memory(flow: Flow, ctx: Context) -> None:
    """What the ``memory:`` block's own reader cannot see alone: its windows against each
    other, its words in the flow's language, its language codes.
    (Ranges, remembered slots, topics and the languages' nodes: ``ivr.flows.memory``.)"""
    memory = flow.memory
    if memory is None:
        return
    block = find(ctx.root, "memory")

    def where(key: str) -> Where:
        y = find(block, key)
        return y.where if y is not None else memory.where

    if memory.repeat_hours > memory.retention_days * 24:
        ctx.error(where("repeat_hours"), f"repeat_hours {memory.repeat_hours:g} is longer than the "
                  f"{memory.retention_days} day{'s' if memory.retention_days != 1 else ''} a caller's calls are "
                  "kept (retention_days)",
                  "calls older than retention_days are forgotten and never count as repeats: shorten "
                  "repeat_hours or raise retention_days")
    for key, prompt in (("notice", memory.notice), ("welcome", memory.welcome)):
        if prompt.variants and flow.language not in prompt.variants:
            ctx.error(prompt.where if prompt.where.line else where(key),
                      f"the memory's {key} is given in {', '.join(prompt.variants)} but not in the flow's language "
                      f"{flow.language}", f"callers of this flow hear it in {flow.language}: add a {flow.language}: text")
    written = find(block, "languages")
    for code in memory.languages:
        at_key = written.key_where.get(code, written.where) if written is not None else memory.where
        if not LANGUAGE.fullmatch(code.lower()):
            ctx.error(at_key, f"'{code}' in the memory's languages is not a language code",
                      "name the language as the flow that speaks it writes its 'language:', e.g. ko-KR")
        elif code.lower() == flow.language.lower():
            ctx.warn(at_key, f"the memory's languages name this flow's own language {flow.language}",
                     "a returning caller whose language was this one is already here; remove it")


def memory_languages_across(flow: Flow, flows: dict[str, Flow], lines: list[str] | None = None) -> list[Problem]:
    """A returning caller's language is remembered as their last flow's ``language:``, as
    written (ko-KR); a ``memory.languages`` code leading (``goto``) to a flow that speaks
    it under another code would never match. ``lines`` (the flow file's) place each
    problem at its code; without them, at the memory block."""
    memory = flow.memory
    out: list[Problem] = []
    if memory is None:
        return out
    written: Y | None = None
    for code, node_id in memory.languages.items():
        target = flows.get(getattr(flow.nodes.get(node_id), "flow", "") or "")
        if target is not None and target.language != code:
            if written is None and lines:
                written = find(parse_yaml("\n".join(lines), flow.path, []), "memory", "languages")
            where = written.key_where.get(code, memory.where) if written is not None else memory.where
            out.append(Problem(where, f"the memory's languages send '{code}' to '{node_id}', a flow in "
                               f"{target.language}: callers of '{target.name}' are remembered in {target.language}, "
                               f"so '{code}' never matches", f"write it {target.language}: {node_id}"))
    return out


# --- agent pools against the agents file ----------------------------------------------

def _staffed(flow: Flow, ctx: Context) -> None:
    """With an agents file (``ivr validate --agents FILE``): each agent pool's languages
    and skills are ones some agent of the file has (with a did-you-mean), and some agent
    is in the pool. Presence is live and not checked here, only who could ever be rung."""
    staff = ctx.agents
    if staff is None:
        return
    name = staff.source.replace("\\", "/").rsplit("/", 1)[-1]
    known = {"languages": staff.languages(), "skills": staff.skills()}
    for node in flow.nodes.values():
        for pool, item in _pools(ctx, node):
            where = item.where if item is not None else at(ctx, node, "to")
            unknown = False
            for key, said in (("languages", "speaks"), ("skills", "has skill")):
                have = known[key]
                bases = {word.split("-")[0] for word in have} if key == "languages" else set(have)
                words: list[str] = list(getattr(pool, key))
                missing = [w for w in words if (w.split("-")[0] if key == "languages" else w) not in bases]
                # A pool takes agents who speak ANY of its languages but have ALL of its skills:
                # a language nobody speaks beside one somebody does leaves the pool working.
                fatal = bool(missing) and (key == "skills" or len(missing) == len(words))
                unknown = unknown or fatal
                for word in missing:
                    listed = f"agents' {key}: {', '.join(have)}" if have else f"no agent in it lists {key}"
                    close = did_you_mean(word, have)
                    hint = f"{close} ({listed})" if close else listed
                    if fatal:
                        ctx.error(_word_where(item, key, word) or where, f"no agent in {name} {said} '{word}'", hint)
                    else:
                        ctx.warn(_word_where(item, key, word) or where, f"no agent in {name} {said} '{word}'",
                                 f"{hint}; the pool reaches only agents of its other languages")
            if not unknown and not any(pool.takes(languages, skills) for languages, skills in staff.agents):
                ctx.error(where, f"no agent in {name} belongs to this pool ({pool.describe()})",
                          "each of its languages and skills is someone's, but nobody has them together: give "
                          "them to an agent, or ask the pool for less")


def _pools(ctx: Context, node: Node) -> list[tuple[AgentPool, Y | None]]:
    """The agent pools among the node's transfer targets, each with where it is written."""
    pools = [pool for target in getattr(node, "targets", ()) if (pool := AgentPool.of(target)) is not None]
    to = find(body(ctx, node), "to")
    items = [] if to is None else to.value if isinstance(to.value, list) else [to]
    written = [item for item in items if isinstance(item.value, dict)]
    places: list[Y | None] = list(written) if len(written) == len(pools) else [None] * len(pools)
    return list(zip(pools, places, strict=True))


def _word_where(item: Y | None, key: str, word: str) -> Where | None:
    """Where ``word`` stands in the pool's ``languages`` or ``skills``."""
    y = find(item, "agents", key)
    values = [] if y is None else y.value if isinstance(y.value, list) else [y]
    return next((v.where for v in values if str(v.value).strip().lower() == word), None)


# --- templates: slots set on every path ----------------------------------------------

def _gen_kill(flow: Flow, edge: Edge) -> tuple[str, str]:
    """(fact set, fact cleared) by going along ``edge``."""
    if edge.implicit:
        return "", ""
    node = flow.nodes[edge.source]
    return KINDS.of(node).facts(node, edge.label)


def _must_have(flow: Flow, succ: dict[str, list[Edge]], universe: frozenset[str]) -> dict[str, frozenset[str]]:
    """For each node, the facts (slot names, LOOKUP_FOUND) that hold on every path to it."""
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
            before = back[state]
            while before is not None:
                path.append(before[0])
                before = back[before]
            return path[::-1]
        for edge in succ[state[0]]:
            gen, kill = _gen_kill(flow, edge)
            absent = (state[1] and gen != fact) or kill == fact
            nxt = (edge.target, absent)
            if nxt not in back:
                back[nxt] = state
                queue.append(nxt)
    return []


def _finders(flow: Flow, succ: dict[str, list[Edge]]) -> dict[str, frozenset[str]]:
    """For each node, the nodes whose found record the call may hold there (the last
    lookup on some path to it that went out by its 'found' edge)."""
    found: dict[str, frozenset[str]] = {node: frozenset() for node in flow.nodes}
    queue = deque(flow.nodes)  # every node once, then whatever changes
    while queue:
        node = queue.popleft()
        for edge in succ[node]:
            gen, kill = _gen_kill(flow, edge)
            out = frozenset({node}) if gen == LOOKUP_FOUND else frozenset() if kill == LOOKUP_FOUND else found[node]
            if not out <= found[edge.target]:
                found[edge.target] = found[edge.target] | out
                queue.append(edge.target)
    return found


def _unknown_field(flow: Flow, finders: frozenset[str], field: str) -> tuple[str, tuple[str, ...]] | None:
    """(lookup, its fields) for a lookup that may have found the record and whose record
    is known not to hold ``field``; None when every such lookup has it or is not known."""
    for finder in sorted(finders, key=list(flow.nodes).index):
        node = flow.nodes[finder]
        fields = KINDS.of(node).record_fields(node)
        if fields is not None and field not in fields:
            return finder, fields
    return None


def _templates(flow: Flow, ctx: Context, succ: dict[str, list[Edge]], reached: set[str]) -> None:
    slots = {name for n in flow.nodes.values() for name in n.slots_set()}
    universe = frozenset(slots | {LOOKUP_FOUND})
    facts = _must_have(flow, succ, universe)
    finders = _finders(flow, succ)

    def check(node: Node, use: FieldUse) -> None:
        name, where, what = use.name, use.where, use.what
        # Where no call arrives, no path says what is set; names are still checked.
        have = facts[node.id] if node.id in reached else universe
        if name == "caller" or name in use.built_ins:
            return
        if name.startswith("lookup."):
            if LOOKUP_FOUND not in have:
                path = _path_without(flow, succ, LOOKUP_FOUND, node.id)
                ctx.error(where, f"{what} '{name}' is used where no lookup has found a record",
                          "use lookup fields only after a lookup's 'found:'" + (f"; e.g. {' -> '.join(path)}" if path else ""))
                return
            field = name[len("lookup."):]
            unknown = _unknown_field(flow, finders[node.id], field)
            if unknown is not None:
                finder, fields = unknown
                close = did_you_mean(field, fields)
                listed = f"the record of lookup '{finder}' has: {', '.join(fields)}"
                ctx.error(where, f"{what} '{name}' is not in the record that lookup '{finder}' finds",
                          f"{close} ({listed})" if close else listed)
            return
        if name not in slots:
            known = sorted(slots) + ["caller"] + list(use.built_ins)
            ctx.error(where, f"{what} '{name}' is not a slot of this flow",
                      did_you_mean(name, known) or "slots are set by collect nodes, e.g. slot: {name: order_id}")
        elif name not in have and not use.exempt:
            path = _path_without(flow, succ, name, node.id)
            ctx.error(where, f"{what} '{name}' may not be set when the call reaches {node.kind} '{node.id}'",
                      (f"on the path {' -> '.join(path)} no collect sets it" if path else "no collect sets it on every path")
                      + "; collect it first or move the field")

    for node in flow.nodes.values():
        for prompt in node.prompts():
            for name in _fields(prompt.text, *(v.text for v in prompt.variants.values())):
                check(node, FieldUse(name, in_text(ctx, prompt.where, name)))
        for use in KINDS.of(node).field_uses(node, ctx):
            check(node, use)


def lookup_fields_used(flow: Flow, ctx: Context) -> frozenset[str]:
    """The fields of lookup records the flow uses anywhere: ``{lookup.X}`` in a prompt, a
    branch's variable, a lookup's URL or key."""
    names: set[str] = set()
    for node in flow.nodes.values():
        for prompt in node.prompts():
            names.update(_fields(prompt.text, *(v.text for v in prompt.variants.values())))
        names.update(use.name for use in KINDS.of(node).field_uses(node, ctx))
    return frozenset(name[len("lookup."):] for name in names if name.startswith("lookup."))


def _fields(*texts: str) -> list[str]:
    names: list[str] = []
    for text in texts:
        with suppress(ValueError):  # a malformed template was reported by the reader
            names.extend(name for name in template_fields(text) if name not in names)
    return names
