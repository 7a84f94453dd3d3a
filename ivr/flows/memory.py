"""The flow's ``memory:`` block: the line remembers its callers (opt-in per flow).

```yaml
memory:
  retention_days: 90        # a caller's profile is kept this long after their last call
  verified_minutes: 30      # a caller verified this recently is not asked again (0: always)
  repeat_hours: 2           # calls about one topic within this window alert the detector
  remember: [order_id]      # slots safe to keep (lookup keys; never secret ones)
  topics: [order status, account balance]   # menu options offered as a shortcut (default: the start menu's)
  languages: {ko-KR: korean}                # a returning caller's language -> the node that takes them there
  notice: "We remember your recent calls to help you faster. To be forgotten, ask one of our team."
  welcome: "Welcome back. Are you calling about {topic} again? Press 1 or say yes, or press 2 or say no."
```

``read_memory`` reads the block while the flow's top level is read; ``resolve_memory``
runs once the nodes are known: each topic becomes a ``Shortcut`` (the option's ``go``;
when that node collects a remembered slot, the shortcut fills the slot and goes past
the question), each name is checked, with its position and a hint.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ivr.model.flow import Node, Prompt, template_fields
from ivr.model.memory import MemorySettings, Shortcut
from ivr.model.problems import did_you_mean

from .positions import in_text
from .reader import Context, Reader
from .schema_parts import obj, ref
from .yamlpos import Y

__all__ = ["read_memory", "resolve_memory", "memory_schema", "WELCOME_FIELDS"]

WELCOME_FIELDS = ("topic",)


class _Read:
    """What was read, with where each list item stands, until the nodes are known."""

    def __init__(self, settings: MemorySettings, remember: list[Y], topics: list[Y] | None, r: Reader):
        self.settings, self.remember, self.topics, self.r = settings, remember, topics, r


def read_memory(r: Reader, ctx: Context) -> _Read | None:
    m = r.sub("memory", "the caller memory")
    if m is None or not m.ok:
        return None
    retention = m.integer("retention_days", 90, 1, 3650)
    verified = m.integer("verified_minutes", 0, 0, 24 * 60)
    repeat = m.number("repeat_hours", 24.0, 0.1, 24 * 30)
    m.words("remember")
    m.words("topics")
    remember_y = _items(m.get("remember"))
    topics_y = _items(m.get("topics")) if m.has("topics") else None
    languages: dict[str, str] = {}
    lang = m.get("languages")
    if lang is not None:
        if not isinstance(lang.value, dict):
            ctx.error(lang.where, "'languages' of the caller memory must map a language to a node, e.g. {ko-KR: korean}")
        else:
            for code, target in lang.value.items():
                node = m.ref_value(target, "(memory)", f"memory.languages.{code}")
                if node:
                    languages[str(code)] = node
    notice = m.prompt("notice", required=True)
    welcome = m.prompt("welcome", required=True)
    for prompt in (welcome, *welcome.variants.values()):
        for name in _fields(prompt.text):
            if name not in WELCOME_FIELDS:
                ctx.error(in_text(ctx, prompt.where, name), f"the memory's welcome names '{{{name}}}', which it does not know",
                          "the welcome may use {topic} (the caller's last topic, e.g. 'order status, 123456')")
    for prompt in (notice, *notice.variants.values()):
        for name in _fields(prompt.text):
            ctx.error(in_text(ctx, prompt.where, name),
                      f"the memory's notice names '{{{name}}}'; it is said before anything is known",
                      "write the notice as plain words")
    m.done()
    settings = MemorySettings(retention_days=retention, verified_minutes=verified, repeat_hours=float(repeat),
                              languages=languages, notice=notice, welcome=welcome, where=r.at("memory"))
    return _Read(settings, remember_y, topics_y, m)


def _items(y: Y | None) -> list[Y]:
    if y is None:
        return []
    return [i for i in (y.value if isinstance(y.value, list) else [y]) if isinstance(i.value, str)]


def _fields(text: str) -> list[str]:
    try:
        return template_fields(text)
    except ValueError:
        return []  # the reader reported the broken template


def resolve_memory(read: _Read | None, nodes: Mapping[str, Node], start: str, ctx: Context) -> MemorySettings | None:
    """The settings with every name checked against the flow's nodes: remembered slots
    exist and are not secret; topics are labels of menu options; shortcuts resolved."""
    if read is None:
        return None
    filled = {name: node for node in nodes.values() for name in node.slots_set()}
    secrets = {name for node in nodes.values() for name in node.secrets()}
    remember: list[str] = []
    for given in read.remember:
        name = given.value
        if name in secrets:
            ctx.error(given.where, f"slot '{name}' is secret: the caller memory never keeps it",
                      "remember lookup keys such as an order number, never a PIN or a card number")
        elif name not in filled:
            ctx.error(given.where, f"the caller memory remembers slot '{name}', which no node fills",
                      did_you_mean(name, filled) or "name a slot a collect node fills")
        else:
            remember.append(name)
    options = {o.label: o for node in nodes.values() for o in getattr(node, "options", ())
               if getattr(node, "kind", "") == "menu"}
    if read.topics is None:  # the start menu's options, except those that leave the flow
        first = nodes.get(start)
        labels = [o.label for o in getattr(first, "options", ())
                  if getattr(nodes.get(o.go), "kind", "") != "goto"]
        chosen: list[tuple[str, Y | None]] = [(label, None) for label in labels]
    else:
        chosen = [(str(written.value), written) for written in read.topics]
    topics: dict[str, Shortcut] = {}
    for label, item in chosen:
        option = options.get(label)
        if option is None:
            if item is not None:
                ctx.error(item.where, f"topic '{label}' of the caller memory is not the label of a menu option",
                          did_you_mean(label, options) or "name an option by its label (or its first phrase)")
            continue
        topics[label] = _shortcut(label, option.go, nodes, remember)
    return replace(read.settings, remember=tuple(remember), topics=topics)


def _shortcut(label: str, go: str, nodes: Mapping[str, Node], remember: list[str]) -> Shortcut:
    """Where a returning caller's shortcut to ``label`` leads: past the question that
    collects a remembered slot (the slot comes from memory), else the option's node."""
    node = nodes.get(go)
    slot = getattr(getattr(node, "slot", None), "name", "")
    after = getattr(node, "go", "")
    if getattr(node, "kind", "") == "collect" and slot in remember and after:
        return Shortcut(label, after, slot)
    return Shortcut(label, go, "")


def prompts(settings: MemorySettings | None) -> tuple[Prompt, ...]:
    return () if settings is None else tuple(p for p in (settings.notice, settings.welcome) if p)


def memory_schema() -> dict[str, Any]:
    """The schema part of ``memory:`` (the flow's top level)."""
    return obj("Remember callers between calls (opt-in): their last topics, language and verification, keyed by "
               "a keyed hash of their number; withheld numbers are never remembered. 'ivr forget NUMBER' wipes "
               "a caller, 'ivr purge' what is older than retention_days.", {
                   "retention_days": {"type": "integer", "minimum": 1, "maximum": 3650, "default": 90,
                                      "description": "Days a caller's profile is kept after their last call."},
                   "verified_minutes": {"type": "integer", "minimum": 0, "maximum": 1440, "default": 0,
                                        "description": "A caller verified (a lookup with verifies: true) this many "
                                                       "minutes ago is not asked again (the 'verified' branch "
                                                       "variable is true); 0: always asked."},
                   "repeat_hours": {"type": "number", "minimum": 0.1, "maximum": 720, "default": 24,
                                    "description": "Calls about the same topic within this window are a sign for "
                                                   "the escalation detector (signal repeat_contact)."},
                   "remember": {"type": "array", "items": {"type": "string"},
                                "description": "Slots safe to remember (lookup keys such as an order number); "
                                               "secret slots are refused."},
                   "topics": {"type": "array", "items": {"type": "string"},
                              "description": "Menu option labels remembered as the call's topic and offered as a "
                                             "shortcut (default: the start menu's options)."},
                   "languages": {"type": "object", "additionalProperties": ref("nodeId"),
                                 "description": "A returning caller's last language -> the node that takes them "
                                                "there (e.g. {ko-KR: korean}); that flow needs a way back."},
                   "notice": ref("prompt", "Said once, on the first call the line remembers."),
                   "welcome": ref("prompt", "Asked of a returning caller: the shortcut to the last topic ({topic}); "
                                           "1 or yes takes it, 2 or no hears the menu, anything else is the menu's "
                                           "answer."),
               }, ("notice", "welcome"))


