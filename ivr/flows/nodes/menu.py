"""``menu``: choose an option by key or by saying one of its phrases.

```yaml
main:
  menu:
    prompt: "Say order status or billing, or press 1 or 2."
    reprompt: "Press 1 for order status, 2 for billing, or 0 for a person."
    options:
      - {keys: "1", say: [order status, where is my order], go: order}
      - {keys: "2", say: [billing, my bill], go: billing}
      - {say: [cancel my account], go: front_desk, human: true}
```
"""
from __future__ import annotations

from dataclasses import dataclass

from ivr.model.flow import Node, Prompt
from ivr.model.problems import Where
from ivr.flows.reader import Context, Reader
from ivr.flows.yamlpos import Y
from ivr.understanding.text import digits_in, match_phrase

from .base import Heard, Matched, Unmatched

KEYS = "0123456789*#"


@dataclass(frozen=True)
class Option:
    keys: str
    phrases: tuple[str, ...]
    go: str
    label: str
    human: bool
    where: Where


@dataclass(frozen=True)
class MenuNode(Node):
    prompt: Prompt = Prompt()
    reprompt: Prompt = Prompt()
    options: tuple[Option, ...] = ()
    timeout: int | None = None
    operator_off: str = ""

    kind = "menu"
    listens = True

    def edges(self) -> tuple[tuple[str, str], ...]:
        return tuple((o.label, o.go) for o in self.options)

    def prompts(self) -> tuple[Prompt, ...]:
        return (self.prompt, self.reprompt)

    @property
    def phrases(self) -> tuple[str, ...]:
        return tuple(p for o in self.options for p in o.phrases)


def parse(node_id: str, body: Y, node: Reader, ctx: Context) -> MenuNode:
    r = Reader(body, ctx, f"menu '{node_id}'")
    prompt = r.prompt("prompt", required=True)
    reprompt = r.prompt("reprompt")
    timeout = r.integer("timeout", None, 1, 60)
    operator_off = r.text("operator_off", "") or ""
    options: list[Option] = []
    items = r.get("options")
    if items is None:
        r.missing("options", "a menu lists what the caller can choose")
    elif not isinstance(items.value, list) or not items.value:
        ctx.error(items.where, f"'options' of menu '{node_id}' must be a list of choices")
    else:
        for i, item in enumerate(items.value, 1):
            o = Reader(item, ctx, f"option {i} of menu '{node_id}'")
            if not o.ok:
                continue
            keys = o.text("keys", "") or ""
            if keys and any(k not in KEYS for k in keys):
                ctx.error(o.get("keys").where, f"'keys' of option {i} of menu '{node_id}' must be keypad keys (0-9, * or #), not '{keys}'")
            phrases = o.words("say")
            go = o.ref("go", node_id, label=f"option {keys or i}")
            label = o.text("label", "") or (phrases[0] if phrases else f"key {keys}")
            human = o.flag("human", False)
            if not keys and not phrases:
                ctx.error(item.where, f"option {i} of menu '{node_id}' has neither 'keys' nor 'say'",
                          "give the key to press, the phrases to say, or both")
            options.append(Option(keys, phrases, go, label, human, item.where))
            o.done()
    r.done()
    return MenuNode(node_id, node.y.where, prompt, reprompt, tuple(options), timeout, operator_off)


def listen(node: MenuNode, call, attempt: int, sorry: str = "") -> None:
    """First try: the prompt. Later tries: an apology, then the reprompt; the last try
    also spells out every key, so a lost caller gets more direction each time."""
    prompts: list = []
    if attempt == 0:
        prompts.append(node.prompt)
    else:
        if sorry:
            prompts.append(sorry)
        prompts.append(node.reprompt or node.prompt)
        if attempt >= 2 or not node.reprompt:
            prompts.append(_key_help(node, call))
    call.listen(node.id, prompts, node.phrases, max_digits=max((len(o.keys) for o in node.options), default=1) or 1,
                finish_on_key="", timeout=node.timeout)


def _key_help(node: MenuNode, call) -> str:
    parts = [f"press {o.keys} for {o.label}" for o in node.options if o.keys]
    if not node.operator_off and call.flow.operator.digit:
        parts.append(f"press {call.flow.operator.digit} to speak to a person")
    if not parts:
        return ""
    return "You can " + ", ".join(parts[:-1]) + (", or " if len(parts) > 1 else "") + parts[-1] + "."


def interpret(node: MenuNode, call, heard: Heard) -> Matched | Unmatched:
    if heard.kind == "keys":
        option = next((o for o in node.options if o.keys and o.keys == heard.text.rstrip("#")), None)
        if option is None:
            return Unmatched(f"pressed {heard.text}, which is not an option")
    else:
        match = match_phrase(heard.text, [o.phrases for o in node.options])
        option = node.options[match.index] if match else None
        if option is None:
            spoken = digits_in(heard.text)
            option = next((o for o in node.options if o.keys and o.keys == spoken), None)
        if option is None:
            return Unmatched(f"said '{heard.text}', which is not an option")
    human = f"Caller chose '{option.label}', which needs a person" if option.human else ""
    return Matched(option.go, option.label, human=human)
