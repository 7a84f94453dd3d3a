"""``hangup``: say goodbye and end the call.

```yaml
goodbye:
  hangup: "Thanks for calling Acme. Goodbye."
```
"""
from __future__ import annotations

from dataclasses import dataclass

from ivr.model.actions import Hangup
from ivr.model.phases import Phase
from ivr.model.flow import Node, Prompt
from ivr.flows.reader import Context, Reader, read_prompt
from ivr.flows.yamlpos import Y


@dataclass(frozen=True)
class HangupNode(Node):
    prompt: Prompt = Prompt()

    kind = "hangup"

    def prompts(self) -> tuple[Prompt, ...]:
        return (self.prompt,)


def parse(node_id: str, body: Y, node: Reader, ctx: Context) -> HangupNode:
    if body.value is True or body.value is None:
        return HangupNode(node_id, node.y.where)
    if isinstance(body.value, dict) and set(body.value) == {"prompt"}:
        r = Reader(body, ctx, f"hangup '{node_id}'")
        prompt = r.prompt("prompt")
        r.done()
        return HangupNode(node_id, node.y.where, prompt)
    return HangupNode(node_id, node.y.where, read_prompt(body, ctx, f"hangup '{node_id}'"))


def enter(node: HangupNode, call) -> None:
    call.speak(node.prompt)
    call.update(phase=Phase.ENDED, outcome=call.session.outcome or "contained")
    call.actions.append(Hangup())
