"""``voicemail``: take a message, then go on (or thank the caller and hang up).

```yaml
leave_message:
  voicemail:
    prompt: "Please leave your name, number and message after the tone."
    max_length: 120
    go: goodbye
```
The same message-taking serves a transfer whose targets all failed and that names no
``fallback`` (``take_message`` and ``message_taken`` with no voicemail node).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ivr.model.actions import Hangup, Record
from ivr.model.flow import Node, Prompt
from ivr.model.phases import Phase

from ..reader import Context, Reader
from ..schema_parts import integer, obj, ref
from ..yamlpos import Y
from .base import NodeKind, Step

__all__ = ["VoicemailNode", "KIND", "take_message", "message_taken"]

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


class Voicemail(NodeKind[VoicemailNode]):
    key = "voicemail"
    node = VoicemailNode
    description = "A message."
    rank = 80
    stands_in = True
    mermaid_shape = '[/"%s"/]'
    dot_shape = "parallelogram"

    def parse(self, node_id: str, body: Y, node: Reader, ctx: Context) -> VoicemailNode:
        if body.value is True or body.value is None:
            return VoicemailNode(node_id, node.y.where)
        r = Reader(body, ctx, f"voicemail '{node_id}'")
        prompt = r.prompt("prompt")
        max_length = r.integer("max_length", 120, 5, 3600)
        go = r.ref("go", node_id, required=False)
        r.done()
        return VoicemailNode(node_id, node.y.where, prompt, max_length, go)

    def enter(self, node: VoicemailNode, call: Step) -> None:
        take_message(node, call, node.id)

    def on_recording(self, node: VoicemailNode, call: Step, url: str, duration: float) -> None:
        message_taken(node, call, url, duration)

    def resume(self, node: VoicemailNode, call: Step) -> None:
        """The recording again, with the node's own limit (the prompt was said by the step
        that brought the caller here: the shell replays it to a caller redirected off hold)."""
        call.actions.append(Record(node=node.id, max_length=node.max_length))

    def schema_defs(self) -> dict[str, Any]:
        return {"voicemail": {"description": "Take a message.", "anyOf": [{"type": ["boolean", "null"]}, obj("A voicemail.", {
            "prompt": ref("prompt"), "max_length": integer("Longest message in seconds.", 5, 3600),
            "go": ref("nodeId", "After the message (default: thank and hang up)."),
        })]}}


KIND = Voicemail()


def take_message(node: VoicemailNode | None, call: Step, node_id: str) -> None:
    """Ask for a message and record it (``node`` None: the built-in voicemail of a transfer)."""
    call.speak(node.prompt if node and node.prompt else call.message("voicemail_prompt"))
    call.update(phase=Phase.RECORDING)
    call.actions.append(Record(node=node_id, max_length=node.max_length if node else 120))


def message_taken(node: VoicemailNode | None, call: Step, url: str, duration: float) -> None:
    """File the recording, then go on (or thank the caller and hang up)."""
    call.update(recording={"url": url, "duration": duration}, outcome="voicemail" if url else call.session.outcome)
    if node is not None and node.go:
        call.goto(node.go)
        return
    call.speak(call.message("voicemail_thanks" if url else "voicemail_none"))
    call.update(phase=Phase.ENDED, outcome=call.session.outcome or "abandoned")
    call.actions.append(Hangup())
