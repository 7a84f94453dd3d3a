"""``goto``: continue the call in another flow (e.g. the same line in another language).

```yaml
korean:
  goto: acme-support-ko
```
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ivr.model.actions import SwitchFlow
from ivr.model.flow import Flow, Node
from ivr.model.problems import Problem, did_you_mean

from ..reader import Context, Reader, kind_name
from ..schema_parts import node_entry, text
from ..yamlpos import Y
from .base import NodeKind, Step

__all__ = ["GotoNode", "KIND"]


@dataclass(frozen=True)
class GotoNode(Node):
    flow: str = ""

    kind = "goto"


class Goto(NodeKind[GotoNode]):
    key = "goto"
    node = GotoNode
    description = "Continue in another flow."
    rank = 110
    mermaid_shape = '>"%s"]'
    dot_shape = "cds"

    def parse(self, node_id: str, body: Y, node: Reader, ctx: Context) -> GotoNode:
        if not isinstance(body.value, str) or not body.value:
            ctx.error(body.where, f"goto '{node_id}' must name a flow, not {kind_name(body.value)}")
            return GotoNode(node_id, node.y.where, "")
        return GotoNode(node_id, node.y.where, body.value)

    def enter(self, node: GotoNode, call: Step) -> None:
        call.actions.append(SwitchFlow(node.flow))

    def check_loaded(self, node: GotoNode, flows: Mapping[str, Flow]) -> Iterable[Problem]:
        if node.flow not in flows:
            yield Problem(node.where, f"goto '{node.id}' names flow '{node.flow}', which is not loaded",
                          did_you_mean(node.flow, flows) or "flows are named by their 'flow:' line")

    def graph_note(self, node: GotoNode) -> str:
        return f"to flow {node.flow}"

    def schema_node(self) -> dict[str, Any]:
        return node_entry(self.key, self.description, text("The other flow's name."))


KIND = Goto()
