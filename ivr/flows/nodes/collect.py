"""``collect``: ask for one value (a slot), check it, optionally read it back.

```yaml
order:
  collect:
    prompt: "Please say or key in your six digit order number."
    slot: {name: order_id, kind: digits, length: 6}
    confirm: true
    go: order_lookup
```
Slot kinds: ``digits`` (``length`` or ``min_length``/``max_length``), ``yes_no``,
``number`` (``min``/``max``), ``date``. ``secret: true`` keeps the value out of every
transcript, log and transfer context (PINs, card numbers).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ivr.model.flow import Node, Prompt
from ivr.model.phases import Phase
from ivr.understanding.dates import call_day, ordinal_word, year_words
from ivr.understanding.text import DIGIT_WORDS, YES_NO_WORDS, date_in, digits_in, number_in, yes_no

from ..reader import Context, Reader
from ..schema_parts import integer, obj, ref, text
from ..yamlpos import Y
from .base import Handled, Heard, Matched, NodeKind, Step, Understood, Unmatched

__all__ = ["CollectNode", "Slot", "SLOT_KINDS", "read_value", "KIND"]

SLOT_KINDS = ("digits", "yes_no", "number", "date")


@dataclass(frozen=True)
class Slot:
    name: str
    kind: str = "digits"
    min_length: int = 1
    max_length: int = 20
    min: float | None = None
    max: float | None = None
    secret: bool = False

    def describe(self) -> str:
        if self.kind == "digits":
            if self.min_length == self.max_length:
                return f"{self.min_length} digits"
            return f"{self.min_length} to {self.max_length} digits"
        return {"yes_no": "yes or no", "number": "a number", "date": "a date"}[self.kind]


@dataclass(frozen=True)
class CollectNode(Node):
    prompt: Prompt = Prompt()
    reprompt: Prompt = Prompt()
    slot: Slot = Slot("value")
    confirm: bool = False
    go: str = ""
    timeout: int | None = None
    operator_off: str = ""

    kind = "collect"
    listens = True

    def edges(self) -> tuple[tuple[str, str], ...]:
        return (("go", self.go),)

    def prompts(self) -> tuple[Prompt, ...]:
        return (self.prompt, self.reprompt)

    def slots_set(self) -> tuple[str, ...]:
        return (self.slot.name,)

    def secrets(self) -> tuple[str, ...]:
        return (self.slot.name,) if self.slot.secret else ()


class Collect(NodeKind[CollectNode]):
    key = "collect"
    node = CollectNode
    description = "Ask for a value."
    rank = 20

    def parse(self, node_id: str, body: Y, node: Reader, ctx: Context) -> CollectNode:
        r = Reader(body, ctx, f"collect '{node_id}'")
        prompt = r.prompt("prompt", required=True)
        reprompt = r.prompt("reprompt")
        confirm = r.flag("confirm", False)
        timeout = r.integer("timeout", None, 1, 60)
        operator_off = r.text("operator_off", "") or ""
        go = r.ref("go", node_id)
        slot = Slot("value")
        s = r.sub("slot", f"the slot of collect '{node_id}'")
        if s is None:
            r.missing("slot", "e.g. slot: {name: order_id, kind: digits, length: 6}")
        elif s.ok:
            name = s.text("name", "value", required=True) or "value"
            if not name.isidentifier():
                ctx.error(s.at("name"), f"slot name '{name}' must be a single word (letters, digits, _)")
            kind = s.choice("kind", SLOT_KINDS, "digits")
            length = s.integer("length", None, 1, 30)
            lo = s.integer("min_length", length or 1, 1, 30)
            hi = s.integer("max_length", length or 20, 1, 30)
            if lo > hi:
                ctx.error(s.at("max_length"),
                          f"max_length ({hi}) is smaller than min_length ({lo})")
            low, high = s.number("min", None), s.number("max", None)
            if kind != "digits" and (length or s.has("min_length") or s.has("max_length")):
                ctx.error(s.y.where, f"length settings only apply to digits slots, not {kind}")
            slot = Slot(name, kind, lo, hi, low, high, s.flag("secret", False))
            s.done()
        r.done()
        return CollectNode(node_id, node.y.where, prompt, reprompt, slot, confirm, go, timeout, operator_off)

    def listen(self, node: CollectNode, call: Step, attempt: int, sorry: str = "") -> None:
        if call.session.phase is Phase.CONFIRMING:
            _read_back(node, call, call.session.pending, again=attempt > 0)
            return
        prompts: list[Prompt | str] = [node.prompt] if attempt == 0 else [p for p in (sorry, node.reprompt or node.prompt) if p]
        if attempt >= 2 and node.slot.kind == "digits":
            prompts.append(_keypad_help(node.slot, call))
        lang = call.language.split("-")[0]
        phrases = YES_NO_WORDS.get(lang, ("yes", "no")) if node.slot.kind == "yes_no" else \
            DIGIT_WORDS.get(lang, DIGIT_WORDS["en"]) if node.slot.kind == "digits" else ()
        max_digits = node.slot.max_length if node.slot.kind == "digits" else (1 if node.slot.kind == "yes_no" else None)
        call.listen(node.id, prompts, phrases, max_digits=max_digits, finish_on_key="#", timeout=node.timeout)

    def interpret(self, node: CollectNode, call: Step, heard: Heard) -> Understood:
        if call.session.phase is Phase.CONFIRMING:
            answer = {"1": True, "2": False}.get(heard.text) if heard.kind == "keys" else yes_no(heard.text)
            if answer is None:
                return Unmatched("did not say yes or no to the read-back")
            pending = call.session.pending
            call.update(phase=Phase.LISTENING, pending="")
            if answer:
                return Matched(node.go, node.slot.name, {node.slot.name: pending})
            call.listen(node.id, [call.message("try_again"), node.prompt], max_digits=node.slot.max_length,
                        finish_on_key="#")
            return Handled(f"{node.slot.name} rejected on read-back")
        value, problem = read_value(node.slot, heard, _today(call), call.language)
        if problem or value is None:
            return Unmatched(problem, "invalid" if value is not None else "no_match")
        if node.confirm:
            _read_back(node, call, value)
            return Handled(node.slot.name)
        return Matched(node.go, node.slot.name, {node.slot.name: value})

    def schema_defs(self) -> dict[str, Any]:
        return {"collect": obj("Ask for one value (a slot), check it, optionally read it back.", {
            "prompt": ref("prompt"), "reprompt": ref("prompt", "Played on later tries (more directed)."),
            "slot": obj("The value asked for.", {
                "name": text("Slot name, used as {name} in later prompts.", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"),
                "kind": {"enum": list(SLOT_KINDS), "default": "digits",
                         "description": "What is asked for. A date is said (\"March third\", \"tomorrow\", "
                                        "\"next Tuesday\", \"3월 3일\") or keyed as MMDD (the next such day) "
                                        "or MMDDYYYY; it is read back as words."},
                "length": integer("Exact number of digits.", 1, 30), "min_length": integer("Fewest digits.", 1, 30),
                "max_length": integer("Most digits.", 1, 30),
                "min": {"type": "number", "description": "Smallest number accepted (number slots)."},
                "max": {"type": "number", "description": "Largest number accepted (number slots)."},
                "secret": {"type": "boolean", "description": "Never shown in logs, transcripts or transfers (PINs)."},
            }, ("name",)),
            "confirm": {"type": "boolean", "description": "Read the value back and ask yes or no."},
            "go": ref("nodeId", "Where the call goes with the value."),
            "timeout": integer("Seconds to wait for the caller.", 1, 60),
            "operator_off": text("Leave out the operator escape here; give the reason."),
        }, ("prompt", "slot", "go"))}


KIND = Collect()


def _today(call: Step) -> date:
    """The caller's day: the event's time in the line's time zone (UTC without hours)."""
    return call_day(call.at, call.flow.hours.timezone if call.flow.hours else "UTC")


def _shown(node: CollectNode, call: Step, value: str) -> str:
    """The value as the read-back speaks it: digits one by one, a date as words."""
    if node.slot.secret:
        return call.message("read_back_secret")
    if node.slot.kind == "digits":
        return " ".join(value)
    if node.slot.kind == "date":
        return _say_date(date.fromisoformat(value), call)
    return value


def _say_date(day: date, call: Step) -> str:
    """A date as words of the caller's language: "March third" ("March third, twenty twenty
    seven" when it is not this year), "3월 3일", "3 de marzo" (the line's messages
    ``read_back_date*`` and ``month_N``)."""
    other_year = day.year != _today(call).year
    return call.message("read_back_date_year" if other_year else "read_back_date", month=call.message(f"month_{day.month}"),
                        day=day.day, ordinal=ordinal_word(day.day), year=day.year, year_words=year_words(day.year))


def _read_back(node: CollectNode, call: Step, value: str, again: bool = False) -> None:
    shown = _shown(node, call, value)
    call.update(phase=Phase.CONFIRMING, pending=value)
    yes_no_words = YES_NO_WORDS.get(call.language.split("-")[0], ("yes", "no"))
    call.listen(node.id, [call.message("read_back_again" if again else "read_back", value=shown)], yes_no_words,
                max_digits=1, finish_on_key="")


def _keypad_help(slot: Slot, call: Step) -> str:
    """After two failed tries at a digits slot: how to key it in."""
    if slot.min_length == slot.max_length:
        return call.message("keypad_digits", count=slot.min_length)
    return call.message("keypad_digits_range", low=slot.min_length, high=slot.max_length)


def read_value(slot: Slot, heard: Heard, today: date | None = None, language: str = "en") -> tuple[str | None, str]:
    """(value, '') when acceptable; (value or None, why not) otherwise. ``today`` (the
    caller's day) places dates said without a year and relative ones ("tomorrow")."""
    text = heard.text.strip()
    if slot.kind == "digits":
        digits = text.rstrip("#") if heard.kind == "keys" else digits_in(text)
        if not digits or not digits.isdigit():
            return None, f"no digits in '{text}'"
        if not slot.min_length <= len(digits) <= slot.max_length:
            return digits, f"expected {slot.describe()}, got {len(digits)}"
        return digits, ""
    if slot.kind == "yes_no":
        answer = {"1": True, "2": False}.get(text) if heard.kind == "keys" else yes_no(text)
        return (None, "not yes or no") if answer is None else ("yes" if answer else "no", "")
    if slot.kind == "number":
        number = int(text.rstrip("#")) if heard.kind == "keys" and text.rstrip("#").isdigit() else number_in(text)
        if number is None:
            return None, f"no number in '{text}'"
        if (slot.min is not None and number < slot.min) or (slot.max is not None and number > slot.max):
            return str(number), f"{number} is out of range"
        return str(number), ""
    found = date_in(text.rstrip("#"), today, language)
    return (found.isoformat(), "") if found else (None, f"no date in '{text}'")
