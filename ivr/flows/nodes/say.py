"""``say``: tell the caller something, then go on.

```yaml
order_status:
  say: "Your order {order_id} is {lookup.status}."
  go: anything_else
```
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ivr.model.flow import Node, Prompt

from ..reader import Context, Reader, read_prompt
from ..schema_parts import node_entry, obj, ref
from ..yamlpos import Y
from .base import NodeKind, Step

__all__ = ["SayNode", "KIND"]


@dataclass(frozen=True)
class SayNode(Node):
    prompt: Prompt = Prompt()
    go: str = ""

    kind = "say"

    def edges(self) -> tuple[tuple[str, str], ...]:
        return (("go", self.go),)

    def prompts(self) -> tuple[Prompt, ...]:
        return (self.prompt,)


class Say(NodeKind[SayNode]):
    key = "say"
    node = SayNode
    description = "Tell the caller something, then go on."
    rank = 30
    automatic = True

    def parse(self, node_id: str, body: Y, node: Reader, ctx: Context) -> SayNode:
        if isinstance(body.value, dict) and "prompt" in body.value:
            r = Reader(body, ctx, f"say '{node_id}'")
            prompt = r.prompt("prompt", required=True)
            go = r.ref("go", node_id)
            r.done()
        else:
            prompt = read_prompt(body, ctx, f"say '{node_id}'")
            go = node.ref("go", node_id)
        return SayNode(node_id, node.y.where, prompt, go)

    def enter(self, node: SayNode, call: Step) -> None:
        call.speak(node.prompt)
        call.goto(node.go)

    def schema_node(self) -> dict[str, Any]:
        body = {"anyOf": [ref("prompt"), obj("A say with its own prompt and go.",
                                             {"prompt": ref("prompt"), "go": ref("nodeId")}, ("prompt", "go"))]}
        return node_entry(self.key, self.description, body, {"go": ref("nodeId")})


KIND = Say()
