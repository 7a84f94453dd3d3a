"""``transfer``: hand the caller to a person, trying targets in order.

```yaml
front_desk:
  transfer:
    to: [client:alice, "+15005550010", "sip:desk@pbx.example.com", queue:support]
    reason: "Caller asked for a person"
    whisper: true
    fallback: leave_message      # when nobody answers; default: take a voicemail
```
Targets: ``+E164`` numbers, ``client:NAME``, ``sip:URI``, ``queue:NAME`` (``<Enqueue>``),
``flex:WW...`` (a TaskRouter workflow: the context travels as the task's attributes) and
agent pools, ``{agents: {languages: [ko], skills: [orders]}}``: the available agents of
the agents file who speak any of those languages and have all of those skills, offered
one at a time, longest idle first, each through the same whisper and accept/pass; a pass
or no answer offers the call to the next such agent, and when nobody of the pool is free
the call goes on to the next target (or the fallback) at once.

```yaml
  korean_desk:
    transfer:
      to: [{agents: {languages: [ko]}}, {agents: {}}, queue:support]
      fallback: leave_message
```
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ivr.model.actions import Hangup, Record, Transfer
from ivr.model.context import build_context, whisper_text
from ivr.model.flow import Flow, Node, Prompt
from ivr.model.messages import english
from ivr.model.phases import Phase, TransferStatus
from ivr.model.session import Session
from ivr.model.targets import AGENT_POOL_HINT, LANGUAGE, SKILL, TARGET_FORMS, TARGET_HINT, AgentPool, target_kind

from ..positions import at, body, find
from ..reader import Context, Reader, kind_name
from ..schema_parts import integer, obj, ref, text
from ..yamlpos import Y
from .base import NodeKind, Step
from .voicemail import message_taken, take_message

__all__ = ["TransferNode", "KIND", "whisper", "whisper_language"]



@dataclass(frozen=True)
class TransferNode(Node):
    targets: tuple[str, ...] = ()
    reason: str = ""
    whisper: bool = True
    timeout: int = 20
    prompt: Prompt = Prompt()
    fallback: str = ""
    whisper_language: str = ""  # the agents' language (an agent pool's own comes first; '': the flow's)

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
        to = r.get("to")
        targets = _targets(to, ctx, node_id) if to is not None else ()
        if to is None:
            r.missing("to")
        elif to.value in ([], None, ""):
            ctx.error(to.where, f"transfer '{node_id}' has no targets")
        reason = r.text("reason", "") or ""
        whisper = r.flag("whisper", True)
        timeout = r.integer("timeout", 20, 5, 600)
        prompt = r.prompt("prompt")
        fallback = r.ref("fallback", node_id, required=False)
        whisper_language = r.text("whisper_language", "") or ""
        if whisper_language and not LANGUAGE.fullmatch(whisper_language.split("-")[0].lower()):
            ctx.error(r.at("whisper_language"), f"whisper_language '{whisper_language}' is not a language code",
                      "e.g. whisper_language: en-US (or ko-KR)")
        r.done()
        return TransferNode(node_id, node.y.where, targets, reason, whisper, timeout, prompt, fallback, whisper_language)

    def enter(self, node: TransferNode, call: Step) -> None:
        reason = call.session.transfer_reason or node.reason or english().text("reason_flow")
        call.update(transfer_reason=reason, transfer_attempt=0, phase=Phase.TRANSFER, hold_from=call.at.isoformat())
        call.speak(node.prompt if node.prompt else call.message("transfer_prompt"))
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
        if status is not TransferStatus.TIMEOUT:
            if target_kind(tried) == "agents" and status is not TransferStatus.UNAVAILABLE:
                call.speak(call.message("still_trying"))
                _dial(node, call, attempt - 1)  # the same pool again: its next free agent
                return
            if attempt < len(node.targets):
                call.speak(call.message("still_trying"))
                _dial(node, call, attempt)
                return
        if node.fallback:
            call.goto(node.fallback)
            return
        call.speak(call.message("nobody_free"))
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
        last = AgentPool.of(node.targets[-1]) if node.targets else None
        if last is not None and not node.fallback:  # a pool with nothing after it
            to = find(body(ctx, node), "to")
            item = find(to, len(node.targets) - 1) if to is not None and isinstance(to.value, list) else to
            who = "no agent" if last == AgentPool() else f"none of the {last.describe()}"
            ctx.error(item.where if item is not None else at(ctx, node, "to"),
                      f"when {who} is free, the caller has nowhere to go: transfer '{node.id}' names nothing after "
                      "this agent pool",
                      "agents sign out, step away or are on calls (then the built-in voicemail takes the call at "
                      "once): add a target after the pool (a number, client:NAME or queue:NAME) or a 'fallback:' "
                      "node such as a voicemail or a callback")
        elif node.targets and not node.fallback and not any(target_kind(t) == "queue" for t in node.targets):
            ctx.warn(at(ctx, node, "to"), f"when nobody answers transfer '{node.id}', the caller is sent to voicemail",
                     "add a queue:NAME target or a 'fallback:' node if that is not what you want")

    def graph_note(self, node: TransferNode) -> str:
        if not node.targets:
            return ""
        more = len(node.targets) - 1
        pool = AgentPool.of(node.targets[0])
        first = pool.describe() if pool is not None else node.targets[0]
        return f"to {first}" + (f" and {more} more" if more else "")

    def schema_defs(self) -> dict[str, Any]:
        target = "^(?:" + "|".join(form.pattern for form in TARGET_FORMS.values()) + ")$"
        words = {"type": "array", "items": {"type": "string"}}
        one = {"anyOf": [ref("target"), ref("agentPool")]}
        return {
            "target": text("A transfer target: +E164 number, client:NAME, sip:user@host or queue:NAME.", pattern=target),
            "agentPool": obj("Available agents of the agents file, offered the call one at a time, longest idle "
                             "first (whisper, accept or pass, then the next agent); nobody free: the next target.", {
                "agents": {"description": "Which agents: who speaks any of 'languages' (e.g. [ko]) and has every "
                                          "one of 'skills' (e.g. [orders]); {} for any agent.",
                           "anyOf": [{"type": "null"}, obj("Languages and skills of the agents to offer the call to.", {
                               "languages": {**words, "description": "Language codes (en, ko): any one of them."},
                               "skills": {**words, "description": "Skill names: every one of them."},
                           })]},
            }, ("agents",)),
            "transfer": obj("Hand the caller to a person, trying targets in order.", {
                "to": {"description": "Targets tried in order: a target, an agent pool ({agents: {languages: [ko], "
                                      "skills: [orders]}}), or a list of them.",
                       "anyOf": [ref("target"), ref("agentPool"), {"type": "array", "items": one, "minItems": 1}]},
                "reason": text("Why the caller is coming to a person (whispered to the agent)."),
                "whisper": {"type": "boolean", "default": True}, "timeout": integer("Seconds to ring each target.", 5, 600),
                "prompt": ref("prompt", "Said to the caller before dialling."),
                "fallback": ref("nodeId", "When nobody answers (default: a voicemail)."),
                "whisper_language": text("The language of the agents' whisper and of what the line says to "
                                         "them, e.g. en-US (default: the flow's); an agent pool that names "
                                         "languages is whispered in its first one. The caller's words are quoted "
                                         "as said.",
                                         pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"),
            }, ("to",)),
        }


KIND = TransferKind()
def _targets(to: Y, ctx: Context, node_id: str) -> tuple[str, ...]:
    """The targets of ``to:`` (one target or a list): text forms, and agent pools written
    ``{agents: {languages: [...], skills: [...]}}`` kept as their text (``AgentPool.target``)."""
    items = to.value if isinstance(to.value, list) else [to]
    out: list[str] = []
    for item in items:
        if isinstance(item.value, dict):
            pool = _pool(item, ctx, node_id)
            if pool is not None:
                out.append(pool.target)
            continue
        if isinstance(item.value, (list, bool)) or item.value is None:
            ctx.error(item.where, f"'to' of transfer '{node_id}' must list targets, not {kind_name(item.value)}",
                      TARGET_HINT)
            continue
        target = str(item.value)
        if target_kind(target) is None:
            ctx.error(item.where, f"'{target}' is not a transfer target", TARGET_HINT)
        out.append(target)
    return tuple(out)


def _pool(item: Y, ctx: Context, node_id: str) -> AgentPool | None:
    """``{agents: {languages: [ko], skills: [orders]}}``; every problem reported where it stands."""
    owner = f"an agents target of transfer '{node_id}'"
    outer = Reader(item, ctx, owner)
    body = outer.get("agents")
    outer.done()
    if body is None:
        if not item.value:  # {} (a wrong key is reported by done() above)
            ctx.error(item.where, f"{owner} must be written {{agents: {{...}}}}", AGENT_POOL_HINT)
        return None
    if body.value is None:
        return AgentPool()  # {agents: } : any agent
    r = Reader(body, ctx, owner)
    if not r.ok:
        return None
    found: dict[str, tuple[str, ...]] = {}
    for key, form, what in (("languages", LANGUAGE, "a language code such as en or ko"),
                            ("skills", SKILL, "a skill name: lower-case letters, digits, '-' or '_'")):
        y = r.get(key)
        if y is None:
            continue
        values = y.value if isinstance(y.value, list) else [y]
        words = []
        for value in values:
            word = str(value.value).strip().lower() if isinstance(value.value, (str, int)) \
                and not isinstance(value.value, bool) else ""
            if not form.fullmatch(word):
                ctx.error(value.where, f"'{key}' of {owner}: {value.plain()!r} is not {what}", AGENT_POOL_HINT)
                continue
            words.append(word)
        found[key] = tuple(words)
    r.done()
    return AgentPool(found.get("languages", ()), found.get("skills", ()))


def _dial(node: TransferNode, call: Step, index: int) -> None:
    call.update(transfer_attempt=index + 1, phase=Phase.TRANSFER, attempt_from=call.at.isoformat())
    context = build_context(call.flow, call.session)
    call.actions.append(Transfer(target=node.targets[index], reason=call.session.transfer_reason,
                                 attempt=index + 1, attempts=len(node.targets), whisper=node.whisper,
                                 summary=whisper_text(context, call.flow.words(whisper_language(node, call.flow, index))),
                                 context=context, timeout=node.timeout))


def whisper_language(node: TransferNode, flow: Flow, index: int) -> str:
    """The language the agents of attempt ``index`` hear the whisper in: the first
    language of the agent pool rung (its agents speak it), else the transfer's
    ``whisper_language``, else the flow's."""
    pool = AgentPool.of(node.targets[index]) if 0 <= index < len(node.targets) else None
    if pool is not None and pool.languages:
        return pool.languages[0]
    return node.whisper_language or flow.language


def whisper(node: TransferNode, flow: Flow, session: Session) -> tuple[str, str]:
    """(what the agent of the call's current attempt hears, its language)."""
    language = whisper_language(node, flow, max(session.transfer_attempt - 1, 0))
    return whisper_text(build_context(flow, session), flow.words(language)), language
