"""Where a value of a flow file stands, for checks that point at it.

The checks run on the loaded ``Flow``, whose nodes keep only where they begin; the YAML
tree with positions (``ctx.root``) knows where each value is. These helpers walk it, so a
message points at the offending value (the key '0', the phrase "agent", the
``{order_id}`` inside a prompt), falling back to the node.

Rules of this file: a lookup never fails. A path that is not in the tree (the reader
already reported the broken value) gives ``None`` or the nearest enclosing position.
"""
from __future__ import annotations

import re

from ivr.model.flow import Flow, Node
from ivr.model.problems import Where

from .reader import Context
from .yamlpos import Y

__all__ = ["find", "body", "at", "node_where", "top_where", "ref_where", "in_text"]


def find(y: Y | None, *path: str | int) -> Y | None:
    """The value at ``path`` (mapping keys and list indexes) under ``y``, or None."""
    for step in path:
        if y is None:
            return None
        if isinstance(step, int):
            y = y.value[step] if isinstance(y.value, list) and step < len(y.value) else None
        else:
            y = y.value.get(step) if isinstance(y.value, dict) else None
    return y


def body(ctx: Context, node: Node) -> Y | None:
    """The YAML under the node's kind key (``nodes: main: menu: <this>``)."""
    return find(ctx.root, "nodes", node.id, node.kind)


def at(ctx: Context, node: Node, *path: str | int) -> Where:
    """Where the value at ``path`` inside the node's body stands, else the node."""
    y = find(body(ctx, node), *path)
    return y.where if y is not None else node_where(ctx, node)


def node_where(ctx: Context, node: Node) -> Where:
    """Where the node's name is written."""
    nodes = find(ctx.root, "nodes")
    return nodes.key_where.get(node.id, node.where) if nodes is not None else node.where


def top_where(ctx: Context, key: str = "") -> Where:
    """The key of a top-level setting (e.g. 'operator'), else the first key of the file."""
    root = ctx.root
    if root is None or not isinstance(root.value, dict):
        return Where(ctx.file, 1, 1)
    return root.key_where.get(key, root.where) if key else root.where


def ref_where(flow: Flow, label: str, default: Where) -> Where:
    """Where the reference labelled ``label`` (e.g. 'operator.to') is written."""
    return next((r.where for r in flow.refs if r.label == label), default)


def in_text(ctx: Context, where: Where, field: str) -> Where:
    """Where ``{field}`` stands inside a text value starting at ``where`` (folded text may
    run over the next lines); ``where`` itself when it cannot be found."""
    pattern = re.compile(r"\{" + re.escape(field) + r"[}!:]")
    for n in range(where.line - 1, min(where.line + 12, len(ctx.lines))):
        found = pattern.search(ctx.lines[n], where.col - 1 if n == where.line - 1 else 0)
        if found:
            return Where(where.file, n + 1, found.start() + 1)
    return where
