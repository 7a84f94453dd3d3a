"""``callback``: when nobody can take the call, promise to call the caller back.

```yaml
call_back:
  callback:
    prompt: "Everyone is busy right now. We'll call you back at the number you're calling from within two hours."
    within_minutes: 120
    go: goodbye          # optional; without it: thank the caller and hang up
```
The promise (the number, when it was made, when it is due) is kept with the call and
travels in its context record, so the console and the CRM see it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ivr.model.actions import Hangup
from ivr.model.phases import Phase
from ivr.model.flow import Node, Prompt
from ivr.flows.reader import Context, Reader
from ivr.flows.yamlpos import Y

DEFAULT_PROMPT = "Everyone is busy right now. We'll call you back at the number you're calling from as soon as we can."


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


def parse(node_id: str, body: Y, node: Reader, ctx: Context) -> CallbackNode:
    if body.value is True or body.value is None:
        return CallbackNode(node_id, node.y.where)
    r = Reader(body, ctx, f"callback '{node_id}'")
    prompt = r.prompt("prompt")
    within = r.integer("within_minutes", 120, 5, 60 * 24 * 7)
    go = r.ref("go", node_id, required=False)
    r.done()
    return CallbackNode(node_id, node.y.where, prompt, within, go)


def enter(node: CallbackNode, call) -> None:
    due = call.at + timedelta(minutes=node.within_minutes)
    call.update(callback={"number": call.session.caller, "promised_at": call.at.isoformat(),
                          "due_by": due.isoformat()}, outcome="callback")
    call.speak(node.prompt if node.prompt else DEFAULT_PROMPT)
    if node.go:
        call.goto(node.go)
        return
    call.speak("Thank you for calling. Goodbye.")
    call.update(phase=Phase.ENDED)
    call.actions.append(Hangup())
