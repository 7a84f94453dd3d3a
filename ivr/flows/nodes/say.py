"""``say``: tell the caller something, then go on.

```yaml
order_status:
  say: "Your order {order_id} is {lookup.status}."
  go: anything_else
```
"""
from __future__ import annotations

from dataclasses import dataclass

from ivr.model.flow import Node, Prompt
from ivr.flows.reader import Context, Reader, read_prompt
from ivr.flows.yamlpos import Y


@dataclass(frozen=True)
class SayNode(Node):
    prompt: Prompt = Prompt()
    go: str = ""

    kind = "say"

    def edges(self) -> tuple[tuple[str, str], ...]:
        return (("go", self.go),)

    def prompts(self) -> tuple[Prompt, ...]:
        return (self.prompt,)


def parse(node_id: str, body: Y, node: Reader, ctx: Context) -> SayNode:
    if isinstance(body.value, dict) and "prompt" in body.value:
        r = Reader(body, ctx, f"say '{node_id}'")
        prompt = r.prompt("prompt", required=True)
        go = r.ref("go", node_id)
        r.done()
    else:
        prompt = read_prompt(body, ctx, f"say '{node_id}'")
        go = node.ref("go", node_id)
    return SayNode(node_id, node.y.where, prompt, go)


def enter(node: SayNode, call) -> None:
    call.speak(node.prompt)
    call.goto(node.go)
