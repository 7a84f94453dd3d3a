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
    other: main                  # any other key (optional): e.g. back to the start
```
Keys are ``0``-``9``, ``*`` and ``#``. A spoken key counts only as a whole answer ("two",
"press three"), never a number word inside a sentence. A caller who describes their
situation instead of naming an option ("my package never showed up") reaches the option
whose phrases name that topic (``decide``); a person-only option (``human``) is picked
only by a clear mention of one of its phrases. The key help spoken on a later try is
made in the caller's language (the line's messages ``key_help*``), one phrase per place
("press 3 or 4 for the main menu"), and says where the operator key leads now (a person,
or out of hours a message).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ivr.model.flow import Flow, Node, Prompt
from ivr.model.messages import english
from ivr.model.problems import Where
from ivr.understanding.intents import Choice, choose_option
from ivr.understanding.person import asks_for_person
from ivr.understanding.text import normalize

from ..positions import at, body, find, node_where
from ..reader import Context, Reader
from ..schema_parts import obj, ref, text
from ..yamlpos import Y
from .base import Heard, Matched, NodeKind, Step, Unmatched

__all__ = ["MenuNode", "Option", "KIND", "Choice", "decide"]

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
    other: str = ""  # where any key no option lists goes ('' : it is not understood)

    kind = "menu"
    listens = True

    def edges(self) -> tuple[tuple[str, str], ...]:
        return tuple((o.label, o.go) for o in self.options) + ((("other key", self.other),) if self.other else ())

    def prompts(self) -> tuple[Prompt, ...]:
        return (self.prompt, self.reprompt)

    @property
    def phrases(self) -> tuple[str, ...]:
        return tuple(p for o in self.options for p in o.phrases)


class Menu(NodeKind[MenuNode]):
    key = "menu"
    node = MenuNode
    description = "A menu."
    rank = 10

    def parse(self, node_id: str, body: Y, node: Reader, ctx: Context) -> MenuNode:
        r = Reader(body, ctx, f"menu '{node_id}'")
        prompt = r.prompt("prompt", required=True)
        reprompt = r.prompt("reprompt")
        timeout = r.integer("timeout", None, 1, 60)
        operator_off = r.text("operator_off", "") or ""
        other = r.ref("other", node_id, required=False, label="other key") or ""
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
                    ctx.error(o.at("keys"), f"'keys' of option {i} of menu '{node_id}' must be keypad keys "
                                            f"(0-9, * or #), not '{keys}'")
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
        return MenuNode(node_id, node.y.where, prompt, reprompt, tuple(options), timeout, operator_off, other)

    def listen(self, node: MenuNode, call: Step, attempt: int, sorry: str = "") -> None:
        """First try: the prompt. Second: a short apology and the reprompt (or the key
        help when there is none). Later: one clear message, the key help alone (or the
        reprompt, for a menu without keys): more direction each time, never three
        messages back to back."""
        prompts: list[Prompt | str] = []
        if attempt == 0:  # the key help is spelled out only when the caller needs it
            prompts.append(node.prompt)
        elif attempt == 1:
            if sorry:
                prompts.append(sorry)
            prompts.append(node.reprompt or _key_help(node, call) or node.prompt)
        else:
            prompts.append(_key_help(node, call) or node.reprompt or node.prompt)
        call.listen(node.id, prompts, node.phrases, max_digits=max((len(o.keys) for o in node.options), default=1) or 1,
                    finish_on_key="", timeout=node.timeout)

    def interpret(self, node: MenuNode, call: Step, heard: Heard) -> Matched | Unmatched:
        if heard.kind == "keys":
            keys = heard.text
            option = next((o for o in node.options if o.keys and o.keys == keys), None) or \
                next((o for o in node.options if o.keys and keys.rstrip("#") and o.keys == keys.rstrip("#")), None)
            if option is None and node.other and keys:
                return Matched(node.other, "other key")
            if option is None:
                return Unmatched(f"pressed {heard.text}, which is not an option")
        else:
            choice = decide(node, heard.text)
            option = node.options[choice.index] if choice.index is not None else None
            if option is None:
                return Unmatched(f"said '{heard.text}', which is not an option")
        human = english().text("reason_option", label=option.label) if option.human else ""
        return Matched(option.go, option.label, human=human)

    # --- checks -------------------------------------------------------------------------
    def check(self, node: MenuNode, flow: Flow, ctx: Context) -> None:
        """Keys unique, not clashing with the operator key or each other's prefixes;
        phrases not shared by two options nor caught by the operator escape first."""
        operator = flow.operator
        escape_on = not node.operator_off
        keys: dict[str, int] = {}
        phrases: dict[str, int] = {}
        for i, option in enumerate(node.options):
            keys_where = _option_where(ctx, node, i, "keys")
            k = option.keys
            if k:
                if k in keys:
                    ctx.error(keys_where, f"key '{k}' is already option {keys[k] + 1} of menu '{node.id}'",
                              f"give each option its own key; line {node.options[keys[k]].where.line}")
                elif escape_on and operator.digit and k.startswith(operator.digit):
                    ctx.error(keys_where, f"key '{k}' of menu '{node.id}' clashes with the operator key '{operator.digit}'",
                              "pick another key, or opt the menu out with operator_off: \"reason\"")
                else:
                    clash = next((other for other in keys if other.startswith(k) or k.startswith(other)), None)
                    if clash is not None:
                        short, long_ = sorted((k, clash), key=len)
                        ctx.error(keys_where, f"keys '{long_}' start with '{short}', another option of menu '{node.id}'",
                                  f"a caller pressing {short} would have to wait to see if more keys follow; "
                                  "use keys of one length")
                    keys.setdefault(k, i)
            items = _phrase_items(find(_option_y(ctx, node, i), "say"))
            for j, phrase in enumerate(option.phrases):
                where = items[j].where if j < len(items) else _option_where(ctx, node, i, "say")
                norm = normalize(phrase)
                if not norm:
                    continue
                if norm in phrases and phrases[norm] != i:
                    ctx.error(where, f"'{phrase}' is said for option {phrases[norm] + 1} and option {i + 1} of menu "
                                     f"'{node.id}'", "a phrase can pick only one option; keep it on one of them")
                phrases.setdefault(norm, i)
                if escape_on and asks_for_person(phrase, operator.phrases):
                    message = (f"'{phrase}' asks for a person: the operator escape catches it before option {i + 1} "
                               f"of menu '{node.id}'")
                    if option.go == operator.to:
                        ctx.warn(where, message, "the caller reaches the operator's target either way; you may drop the phrase")
                    else:
                        ctx.error(where, message, "reword the phrase, or opt the menu out with operator_off: \"reason\"")
        if len(node.options) == 1:
            ctx.warn(at(ctx, node, "options"), f"menu '{node.id}' has a single option",
                     "a menu offers a choice; use a say or collect node, or add the other options")

    def check_without_person(self, node: MenuNode, flow: Flow, ctx: Context) -> None:
        for i, option in enumerate(node.options):
            if option.human:
                ctx.error(_option_where(ctx, node, i, "human"), f"option '{option.label}' of menu '{node.id}' needs a person, "
                          "but the flow names no transfer for that", "set operator.to or escalation.to")

    # --- schema and drawings --------------------------------------------------------------
    def schema_defs(self) -> dict[str, Any]:
        return {
            "option": obj("One choice of a menu: a key, phrases, or both.", {
                "keys": {"description": "Keypad keys that pick this option, e.g. \"1\".",
                         "anyOf": [{"type": "string", "pattern": r"^[0-9*#]+$"}, {"type": "integer", "minimum": 0}]},
                "say": {"description": "Phrases that pick this option (a bare yes/no is read as a phrase).",
                        "anyOf": [{"type": "string"},
                                  {"type": "array", "items": {"type": ["string", "boolean"]}, "minItems": 1}]},
                "go": ref("nodeId", "The node the call goes to."),
                "label": text("How the option is named in key help and reports (default: the first phrase)."),
                "human": {"type": "boolean", "description": "This choice always goes to a person."},
            }, ("go",)),
            "menu": obj("Choose an option by key or by saying one of its phrases.", {
                "prompt": ref("prompt"), "reprompt": ref("prompt", "Played on later tries (more directed)."),
                "options": {"type": "array", "items": ref("option"), "minItems": 1,
                            "description": "The choices: {keys, say, go, label, human} each."},
                "timeout": {"type": "integer", "minimum": 1, "maximum": 60, "description": "Seconds to wait for the caller."},
                "operator_off": text("Leave out the operator escape here; give the reason."),
                "other": ref("nodeId", "Where any key that no option lists goes (default: not understood)."),
            }, ("prompt", "options")),
        }

    def edge_label(self, node: MenuNode, label: str, target: str) -> str:
        option = next((o for o in node.options if o.go == target and o.label == label), None)
        if option is not None and option.keys:
            return f"{option.keys}: {label}"
        return label


KIND = Menu()


def decide(node: MenuNode, said: str) -> Choice:
    """Which option of ``node`` the caller means by ``said``, how it was chosen and the
    score (``ivr.understanding.intents.choose_option``): an option's phrase, a key said
    aloud, or what the caller describes ("my package never showed up")."""
    return choose_option(said, [o.phrases for o in node.options], [o.human for o in node.options],
                         [o.keys for o in node.options])


def _key_help(node: MenuNode, call: Step) -> str:
    """Every key, once per place it leads: "press 3 or 4 for the main menu" (in the
    caller's language, from the line's messages)."""
    or_ = call.message("key_help_or")
    places: dict[tuple[str, str], list[str]] = {}
    for option in node.options:
        if option.keys:
            places.setdefault((option.go, option.label), []).append(option.keys)
    parts = [call.message("key_help_option", keys=_either(keys, or_, call), label=label)
             for (_, label), keys in places.items()]
    digit = call.flow.operator.digit
    if not node.operator_off and digit:
        instead = call.after_hours_instead(call.flow.operator.to)
        kind = getattr(call.flow.nodes.get(instead), "kind", "") if instead else ""
        key = "key_help_callback" if kind == "callback" else "key_help_message" if instead else "key_help_person"
        parts.append(call.message(key, digit=digit))
    if not parts:
        return ""
    joined = ", ".join(parts[:-1]) + ("," + or_ if len(parts) > 2 else or_ if len(parts) > 1 else "") + parts[-1]
    return call.message("key_help", parts=joined)


def _either(keys: list[str], or_: str, call: Step) -> str:
    names = {"*": call.message("key_star"), "#": call.message("key_pound")}
    spoken = [names.get(k, k) for k in keys]
    return spoken[0] if len(spoken) == 1 else ", ".join(spoken[:-1]) + or_ + spoken[-1]


def _option_y(ctx: Context, node: MenuNode, i: int) -> Y | None:
    """The YAML of ``node.options[i]`` (options that were not mappings were skipped)."""
    items = find(body(ctx, node), "options")
    read = [y for y in (items.value if items is not None and isinstance(items.value, list) else [])
            if isinstance(y.value, dict)]
    return read[i] if i < len(read) else None


def _option_where(ctx: Context, node: MenuNode, i: int, key: str) -> Where:
    y = _option_y(ctx, node, i)
    found = find(y, key)
    return found.where if found is not None else y.where if y is not None else node_where(ctx, node)


def _phrase_items(y: Y | None) -> list[Y]:
    if y is None:
        return []
    return y.value if isinstance(y.value, list) else [y]
