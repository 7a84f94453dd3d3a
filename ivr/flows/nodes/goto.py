"""``goto``: continue the call in another flow (e.g. the same line in another language).

```yaml
korean:
  goto: acme-support-ko
```
"""
from __future__ import annotations

from dataclasses import dataclass

from ivr.model.actions import SwitchFlow
from ivr.model.flow import Node
from ivr.flows.reader import Context, Reader, kind_name
from ivr.flows.yamlpos import Y


@dataclass(frozen=True)
class GotoNode(Node):
    flow: str = ""

    kind = "goto"


def parse(node_id: str, body: Y, node: Reader, ctx: Context) -> GotoNode:
    if not isinstance(body.value, str) or not body.value:
        ctx.error(body.where, f"goto '{node_id}' must name a flow, not {kind_name(body.value)}")
        return GotoNode(node_id, node.y.where, "")
    return GotoNode(node_id, node.y.where, body.value)


def enter(node: GotoNode, call) -> None:
    call.actions.append(SwitchFlow(node.flow))
