"""``callback``: when nobody can take the call, promise to call the caller back.

```yaml
call_back:
  callback:
    prompt: "Everyone is busy right now. We'll call you back at the number you're calling from within two hours."
    within_minutes: 120
    go: goodbye          # optional; without it: thank the caller and hang up
```
The promise (the number, when it was made, when it is due) is kept with the call and
travels in its context record, so the console and the CRM see it. It is kept only once
the caller heard it: the prompt plays in a short ``Listen`` whose end (silence, a key, a
word) says it was heard; a caller who hangs up during it was promised nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ivr.model.actions import Hangup
from ivr.model.flow import Node, Prompt
from ivr.model.phases import Phase

from ..reader import Context, Reader
from ..schema_parts import integer, obj, ref
from ..yamlpos import Y
from .base import NodeKind, Step

__all__ = ["CallbackNode", "KIND"]

@dataclass(frozen=True)
class CallbackNode(Node):
    prompt: Prompt = Prompt()
    within_minutes: int = 120
    go: str = ""

    kind = "callback"

    def edges(self) -> tuple[tuple[str, str], ...]:
        return (("go", self.go),) if self.go else ()

    def prompts(self) -> tuple[Prompt, ...]:
        return (self.prompt,)


class Callback(NodeKind[CallbackNode]):
    key = "callback"
    node = CallbackNode
    description = "A callback promise."
    rank = 90
    stands_in = True

    def parse(self, node_id: str, body: Y, node: Reader, ctx: Context) -> CallbackNode:
        if body.value is True or body.value is None:
            return CallbackNode(node_id, node.y.where)
        r = Reader(body, ctx, f"callback '{node_id}'")
        prompt = r.prompt("prompt")
        within = r.integer("within_minutes", 120, 5, 60 * 24 * 7)
        go = r.ref("go", node_id, required=False)
        r.done()
        return CallbackNode(node_id, node.y.where, prompt, within, go)

    def enter(self, node: CallbackNode, call: Step) -> None:
        call.update(phase=Phase.PROMISING)
        call.listen(node.id, [node.prompt if node.prompt else call.message("callback_prompt")], max_digits=1, finish_on_key="",
                    timeout=1)

    def on_heard(self, node: CallbackNode, call: Step) -> None:
        due = call.at + timedelta(minutes=node.within_minutes)
        call.update(callback={"number": call.session.caller, "promised_at": call.at.isoformat(),
                              "due_by": due.isoformat()}, outcome="callback", phase=Phase.LISTENING)
        if node.go:
            call.goto(node.go)
            return
        call.speak(call.message("goodbye"))
        call.update(phase=Phase.ENDED)
        call.actions.append(Hangup())

    def schema_defs(self) -> dict[str, Any]:
        return {"callback": {"description": "Promise to call the caller back.", "anyOf": [{"type": ["boolean", "null"]}, obj(
            "A callback promise.", {"prompt": ref("prompt"), "within_minutes": integer("When the call back is due.", 5, 10080),
                                    "go": ref("nodeId", "Afterwards (default: thank and hang up).")})]}}


KIND = Callback()
