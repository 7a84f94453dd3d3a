"""A loaded call flow: typed, fully resolved, immutable.

``ivr.flows.loader`` builds these from YAML and refuses a flow with any problem, so the
engine can trust every name in here: every ``go`` target exists, every prompt's template
fields are known, every audio file exists. Node kinds live one per module in
``ivr.flows.nodes``; this module holds what they share.
"""
from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ivr.model.escalation import EscalationSettings
from ivr.model.messages import Messages, built_in, english, language_key

from .problems import Where

if TYPE_CHECKING:
    from .memory import MemorySettings

NOWHERE = Where("<built-in>", 0, 0)

DEFAULT_MAX_HOLD = 300  # seconds a caller holds for a person, at most, unless the flow says otherwise


@dataclass(frozen=True)
class Prompt:
    """What the caller hears: an audio file (preferred) and/or text with ``{slot}`` fields.

    ``variants`` holds the same prompt in other languages (language code -> Prompt).
    """

    text: str = ""
    audio: str | None = None  # path relative to the audio directory, e.g. "main.wav"
    where: Where = NOWHERE
    variants: Mapping[str, Prompt] = field(default_factory=dict)

    def for_language(self, language: str) -> Prompt:
        return self.variants.get(language, self)

    @property
    def fields(self) -> tuple[str, ...]:
        """Template fields named in the text (and in every variant)."""
        names: list[str] = []
        for prompt in (self, *self.variants.values()):
            names.extend(template_fields(prompt.text))
        return tuple(dict.fromkeys(names))

    def __bool__(self) -> bool:
        return bool(self.text or self.audio or self.variants)


def template_fields(text: str) -> list[str]:
    """Names used as ``{name}`` or ``{lookup.field}`` in ``text`` (ValueError if malformed)."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


class _Formatter(string.Formatter):
    """``{name}`` and ``{lookup.field}`` looked up as whole keys; a field that is not set
    renders as nothing rather than failing."""

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        return kwargs.get(field_name, ""), field_name

    def format_field(self, value: Any, format_spec: str) -> str:
        try:
            return str(super().format_field(value, format_spec))
        except (ValueError, TypeError):
            return str(value)


_FORMATTER = _Formatter()


def fill_template(text: str, values: Mapping[str, str]) -> str:
    """``text`` with every ``{field}`` replaced by its value in ``values`` ("" if unset)."""
    return _FORMATTER.vformat(text, (), values)


@dataclass(frozen=True)
class Operator:
    """The escape to a person, live at every prompt unless a node opts out with a reason."""

    digit: str = "0"
    phrases: tuple[str, ...] = ("agent", "representative", "operator", "human", "a person", "someone")
    to: str = ""  # node id of the transfer that takes these callers
    after_hours: str = ""  # node id of the message or callback promise that takes them while the line is closed


@dataclass(frozen=True)
class RetryPolicy:
    """How often a prompt is repeated before the caller is helped another way."""

    no_input: int = 2
    no_match: int = 2
    then: str = ""  # node id; default: the operator's target


@dataclass(frozen=True)
class Schedule:
    """Business hours: ``open`` maps weekday (0 = Monday) to (start, end) minute ranges."""

    timezone: str = "UTC"
    open: Mapping[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    where: Where = NOWHERE

    def status(self, at: datetime) -> str:
        """``open``, ``closed`` or ``holiday`` at moment ``at`` (an aware datetime)."""
        local = at.astimezone(ZoneInfo(self.timezone))
        if local.date() in self.holidays:
            return "holiday"
        minute = local.hour * 60 + local.minute
        return "open" if any(a <= minute < b for a, b in self.open.get(local.weekday(), ())) else "closed"


@dataclass(frozen=True)
class Survey:
    """The caller's verdict after the call (flow-level ``survey:``): a 1-5 rating on the
    keypad (or said), then, if ``comment`` is set, a spoken comment recorded, then
    ``thanks``. ``offer`` names the endings that ask it: ``self_service`` (the flow hangs
    up on a caller it served) and ``agent`` (the agent hung up). ``retry`` is said once
    after a key that is not a rating; an empty prompt means the line's own words."""

    question: Prompt
    retry: Prompt = Prompt()
    comment: Prompt = Prompt()
    thanks: Prompt = Prompt()
    offer: tuple[str, ...] = ("self_service", "agent")
    max_comment: int = 60  # seconds of spoken comment at most
    where: Where = NOWHERE

    def prompts(self) -> tuple[Prompt, ...]:
        return tuple(p for p in (self.question, self.retry, self.comment, self.thanks) if p)


SURVEY_ENDINGS = ("self_service", "agent")

# What an agent can say a call was about at wrap-up, unless the flow lists its own codes
DEFAULT_WRAP_UP = ("resolved", "follow-up needed", "transferred on", "wrong number", "other")


@dataclass(frozen=True)
class Ref:
    """A reference from one node to another, kept for validation and the graph."""

    source: str
    label: str
    target: str
    where: Where


@dataclass(frozen=True)
class Node:
    """Base of every node kind. ``id`` is the node's name in the flow file."""

    id: str
    where: Where

    kind = "node"
    listens = False  # True for nodes that wait for keys or speech
    operator_off = ""  # why a listening node leaves out the escape to a person ("" = the escape is on)

    def edges(self) -> tuple[tuple[str, str], ...]:
        """(label, target node id) for every way out of this node."""
        return ()

    def prompts(self) -> tuple[Prompt, ...]:
        return ()

    def slots_set(self) -> tuple[str, ...]:
        """Slots this node fills when the caller passes through it."""
        return ()

    def secrets(self) -> tuple[str, ...]:
        """Slots this node fills that are never shown outside the engine (PINs, card numbers)."""
        return ()


@dataclass(frozen=True)
class Flow:
    name: str
    version: str  # content hash of the file: a call stays on the version it began with
    path: str
    start: str
    nodes: Mapping[str, Node]
    numbers: tuple[str, ...] = ()
    default: bool = False
    language: str = "en-US"
    voice: str = ""
    operator: Operator = Operator()
    retry: RetryPolicy = RetryPolicy()
    escalation: EscalationSettings = EscalationSettings()
    hours: Schedule | None = None
    after_hours: str = ""  # node a call starts at when the line is closed (flow-level hours.closed)
    holiday_start: str = ""  # node a call starts at on a holiday (hours.holiday; default: after_hours)
    timeout: int = 5
    max_hold: int = DEFAULT_MAX_HOLD  # seconds a caller may hold for a person before the transfer's fallback
    secrets: frozenset[str] = frozenset()  # slot names never shown outside the engine
    # the fields of a lookup's record that the flow uses ({lookup.X} in prompts, branches,
    # URLs); only these are kept with the call. None (a flow built by hand): keep them all
    lookup_fields: frozenset[str] | None = None
    crm_url: str = ""  # the transfer's context record is posted here (signed), if set
    crm_secret: str = field(default="", repr=False)
    description: str = ""
    survey: Survey | None = None  # the caller's verdict after the call (None: no survey)
    wrap_up: tuple[str, ...] = DEFAULT_WRAP_UP  # the codes an agent picks from after a call
    refs: tuple[Ref, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
    memory: MemorySettings | None = None  # caller memory (the flow's ``memory:``); None: calls start from nothing
    # the line's own words in each language the flow speaks ('ko', 'en'), resolved when
    # the flow loads (the product's catalogue with the ops' messages/<language>.yaml over it)
    messages: Mapping[str, Messages] = field(default_factory=dict)

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def words(self, language: str = "") -> Messages:
        """The line's own words in ``language`` (default: the flow's): its loaded catalogue,
        else the product's, else English (a flow built by hand has no catalogues of its own)."""
        key = language_key(language or self.language)
        return self.messages.get(key) or built_in(key) or english()
