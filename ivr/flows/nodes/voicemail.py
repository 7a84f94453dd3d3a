"""``voicemail``: take a message, then go on (or thank the caller and hang up).

```yaml
leave_message:
  voicemail:
    prompt: "Please leave your name, number and message after the tone."
    max_length: 120
    go: goodbye
```
"""
from __future__ import annotations

from dataclasses import dataclass

from ivr.model.actions import Hangup, Record
from ivr.model.phases import Phase
from ivr.model.flow import Node, Prompt
from ivr.flows.reader import Context, Reader
from ivr.flows.yamlpos import Y

DEFAULT_PROMPT = "Please leave your name, your number and a short message after the tone. Press pound when you're done."
THANKS = "Thank you. Your message has been recorded and someone will call you back. Goodbye."


@dataclass(frozen=True)
class VoicemailNode(Node):
    prompt: Prompt = Prompt()
    max_length: int = 120
    go: str = ""

    kind = "voicemail"

    def edges(self) -> tuple[tuple[str, str], ...]:
        return (("go", self.go),) if self.go else ()

    def prompts(self) -> tuple[Prompt, ...]:
        return (self.prompt,)


def parse(node_id: str, body: Y, node: Reader, ctx: Context) -> VoicemailNode:
    if body.value is True or body.value is None:
        return VoicemailNode(node_id, node.y.where)
    r = Reader(body, ctx, f"voicemail '{node_id}'")
    prompt = r.prompt("prompt")
    max_length = r.integer("max_length", 120, 5, 3600)
    go = r.ref("go", node_id, required=False)
    r.done()
    return VoicemailNode(node_id, node.y.where, prompt, max_length, go)


def enter(node: VoicemailNode | None, call, node_id: str | None = None) -> None:
    """Also used when every transfer target failed and the flow named no fallback."""
    call.speak(node.prompt if node and node.prompt else DEFAULT_PROMPT)
    call.update(phase=Phase.RECORDING)
    call.actions.append(Record(node=node.id if node else node_id or call.session.node,
                               max_length=node.max_length if node else 120))


def on_recording(node: VoicemailNode | None, call, url: str, duration: float) -> None:
    call.update(recording={"url": url, "duration": duration}, outcome="voicemail" if url else call.session.outcome)
    if node is not None and node.go:
        call.goto(node.go)
        return
    call.speak(THANKS if url else "We didn't get a message. Please call again later. Goodbye.")
    call.update(phase=Phase.ENDED, outcome=call.session.outcome or "abandoned")
    call.actions.append(Hangup())
