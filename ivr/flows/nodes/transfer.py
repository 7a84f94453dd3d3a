"""``transfer``: hand the caller to a person, trying targets in order.

```yaml
front_desk:
  transfer:
    to: [client:alice, "+15005550010", "sip:desk@pbx.example.com", queue:support]
    reason: "Caller asked for a person"
    whisper: true
    fallback: leave_message      # when nobody answers; default: take a voicemail
```
Targets: ``+E164`` numbers, ``client:NAME``, ``sip:URI``, ``queue:NAME`` (``<Enqueue>``) and
``flex:WW...`` (a TaskRouter workflow: the context travels as the task's attributes).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ivr.model.actions import Hangup, Record, Transfer
from ivr.model.context import build_context, summary
from ivr.model.flow import Flow, Node, Prompt
from ivr.model.phases import Phase, TransferStatus
from ivr.model.targets import TARGET_FORMS, TARGET_HINT, target_kind

from ..positions import at
from ..reader import Context, Reader
from ..schema_parts import integer, obj, ref, text
from ..yamlpos import Y
from .base import NodeKind, Step
from .voicemail import message_taken, take_message

__all__ = ["TransferNode", "KIND"]

NOBODY_FREE = "I'm sorry, nobody is free to take your call right now."
DEFAULT_PROMPT = "Please hold while I connect you to someone who can help. I'll pass along what you've told me."


@dataclass(frozen=True)
class TransferNode(Node):
    targets: tuple[str, ...] = ()
    reason: str = ""
    whisper: bool = True
    timeout: int = 20
    prompt: Prompt = Prompt()
    fallback: str = ""

    kind = "transfer"

    def edges(self) -> tuple[tuple[str, str], ...]:
        return (("fallback", self.fallback),) if self.fallback else ()

    def prompts(self) -> tuple[Prompt, ...]:
        return (self.prompt,)


class TransferKind(NodeKind[TransferNode]):
    key = "transfer"
    node = TransferNode
    description = "A person."
    rank = 70
    hands_over = True
    mermaid_shape = '{{"%s"}}'
    dot_shape = "doubleoctagon"

    def parse(self, node_id: str, body: Y, node: Reader, ctx: Context) -> TransferNode:
        r = Reader(body, ctx, f"transfer '{node_id}'")
        targets = r.words("to", required=True)
        to = r.get("to")
        items = to.value if to is not None and isinstance(to.value, list) else [to] if to is not None else []
        for target, item in zip(targets, items):
            if target_kind(target) is None:
                ctx.error(item.where, f"'{target}' is not a transfer target",
                          TARGET_HINT)
        if to is not None and not targets:
            ctx.error(to.where, f"transfer '{node_id}' has no targets")
        reason = r.text("reason", "") or ""
        whisper = r.flag("whisper", True)
        timeout = r.integer("timeout", 20, 5, 600)
        prompt = r.prompt("prompt")
        fallback = r.ref("fallback", node_id, required=False)
        r.done()
        return TransferNode(node_id, node.y.where, targets, reason, whisper, timeout, prompt, fallback)

    def enter(self, node: TransferNode, call: Step) -> None:
        reason = call.session.transfer_reason or node.reason or "Transferred by the call flow"
        call.update(transfer_reason=reason, transfer_attempt=0, phase=Phase.TRANSFER, hold_from=call.at.isoformat())
        call.speak(node.prompt if node.prompt else DEFAULT_PROMPT)
        _dial(node, call, 0)

    def on_transfer(self, node: TransferNode, call: Step, status: TransferStatus, target: str) -> None:
        attempt = call.session.transfer_attempt
        tried = node.targets[attempt - 1] if 0 < attempt <= len(node.targets) else target
        call.update(transfers=(*call.session.transfers,
                               {"target": target or tried, "status": status.value, "t": call.session.t}))
        if status is TransferStatus.ANSWERED:
            call.update(phase=Phase.CONNECTED, outcome="transferred")
            return
        if status is TransferStatus.COMPLETED:  # answered without a whisper, talked, and hung up
            call.update(transfers=(*call.session.transfers[:-1], {**call.session.transfers[-1], "status": "answered"}),
                        phase=Phase.ENDED, outcome="transferred")
            call.actions.append(Hangup())
            return
        if attempt < len(node.targets) and status is not TransferStatus.TIMEOUT:
            call.speak("Still trying to reach someone. Thank you for holding.")
            _dial(node, call, attempt)
            return
        if node.fallback:
            call.goto(node.fallback)
            return
        call.speak(NOBODY_FREE)
        take_message(None, call, node.id)

    def resume(self, node: TransferNode, call: Step) -> None:
        """Ring the target of the current attempt again; while the built-in voicemail
        waits, ask for the message again."""
        if call.session.phase is Phase.RECORDING:  # its prompt was said by the step that got here
            call.actions.append(Record(node=node.id))
            return
        _dial(node, call, max(call.session.transfer_attempt - 1, 0))

    def on_recording(self, node: TransferNode, call: Step, url: str, duration: float) -> None:
        """The message taken when nobody answered (and the transfer names no fallback)."""
        message_taken(None, call, url, duration)

    def check(self, node: TransferNode, flow: Flow, ctx: Context) -> None:
        if node.targets and not node.fallback and not any(target_kind(t) == "queue" for t in node.targets):
            ctx.warn(at(ctx, node, "to"), f"when nobody answers transfer '{node.id}', the caller is sent to voicemail",
                     "add a queue:NAME target or a 'fallback:' node if that is not what you want")

    def graph_note(self, node: TransferNode) -> str:
        if not node.targets:
            return ""
        more = len(node.targets) - 1
        return f"to {node.targets[0]}" + (f" and {more} more" if more else "")

    def schema_defs(self) -> dict[str, Any]:
        target = "^(?:" + "|".join(form.pattern for form in TARGET_FORMS.values()) + ")$"
        return {
            "target": text("A transfer target: +E164 number, client:NAME, sip:user@host or queue:NAME.", pattern=target),
            "transfer": obj("Hand the caller to a person, trying targets in order.", {
                "to": {"description": "Targets tried in order.",
                       "anyOf": [ref("target"), {"type": "array", "items": ref("target"), "minItems": 1}]},
                "reason": text("Why the caller is coming to a person (whispered to the agent)."),
                "whisper": {"type": "boolean", "default": True}, "timeout": integer("Seconds to ring each target.", 5, 600),
                "prompt": ref("prompt", "Said to the caller before dialling."),
                "fallback": ref("nodeId", "When nobody answers (default: a voicemail)."),
            }, ("to",)),
        }


KIND = TransferKind()


def _dial(node: TransferNode, call: Step, index: int) -> None:
    call.update(transfer_attempt=index + 1, phase=Phase.TRANSFER, attempt_from=call.at.isoformat())
    context = build_context(call.flow, call.session)
    call.actions.append(Transfer(target=node.targets[index], reason=call.session.transfer_reason,
                                 attempt=index + 1, attempts=len(node.targets), whisper=node.whisper,
                                 summary=summary(context), context=context, timeout=node.timeout))
