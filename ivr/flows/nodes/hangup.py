"""``hangup``: say goodbye and end the call.

```yaml
goodbye:
  hangup: "Thanks for calling Acme. Goodbye."
```
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ivr.model.actions import Hangup
from ivr.model.flow import Flow, Node, Prompt
from ivr.model.phases import Phase

from ..positions import node_where
from ..reader import Context, Reader, read_prompt
from ..schema_parts import obj, ref
from ..yamlpos import Y
from .base import NodeKind, Step

__all__ = ["HangupNode", "KIND"]


@dataclass(frozen=True)
class HangupNode(Node):
    prompt: Prompt = Prompt()

    kind = "hangup"

    def prompts(self) -> tuple[Prompt, ...]:
        return (self.prompt,)


class HangupKind(NodeKind[HangupNode]):
    key = "hangup"
    node = HangupNode
    description = "Goodbye."
    rank = 100
    mermaid_shape = '(["%s"])'
    dot_shape = "oval"

    def parse(self, node_id: str, body: Y, node: Reader, ctx: Context) -> HangupNode:
        if body.value is True or body.value is None:
            return HangupNode(node_id, node.y.where)
        if isinstance(body.value, dict) and set(body.value) == {"prompt"}:
            r = Reader(body, ctx, f"hangup '{node_id}'")
            prompt = r.prompt("prompt")
            r.done()
            return HangupNode(node_id, node.y.where, prompt)
        return HangupNode(node_id, node.y.where, read_prompt(body, ctx, f"hangup '{node_id}'"))

    def enter(self, node: HangupNode, call: Step) -> None:
        call.speak(node.prompt)
        call.update(phase=Phase.ENDED, outcome=call.session.outcome or "contained")
        call.actions.append(Hangup())

    def check(self, node: HangupNode, flow: Flow, ctx: Context) -> None:
        if not node.prompt:
            ctx.warn(node_where(ctx, node), f"hangup '{node.id}' ends the call without a word",
                     'say goodbye first, e.g. hangup: "Thanks for calling. Goodbye."')

    def schema_defs(self) -> dict[str, Any]:
        return {"hangup": {"description": "Say goodbye and end the call.",
                           "anyOf": [{"type": ["boolean", "null"]}, ref("prompt"), obj("A goodbye.", {"prompt": ref("prompt")})]}}


KIND = HangupKind()
