"""Checks over a whole flow, after every node has been read (graph, escalape, templates)."""
from __future__ import annotations

from .model import Flow
from .reader import Context


def check_flow(flow: Flow, ctx: Context) -> None:
    """Append every problem of ``flow`` to ``ctx.problems``."""
    return None
