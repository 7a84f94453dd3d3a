"""What every node kind is: one ``NodeKind`` per module of this package, and the ``Step``
it works on during a call.

A node kind is one file in ``ivr/flows/nodes/`` that exports ``KIND``, an instance of a
``NodeKind`` subclass. The kind says everything the rest of the product needs to know
about it: its YAML key and node dataclass, how to read it (``parse``), what a call does
there (``enter``; ``listen``/``interpret`` for kinds that wait for the caller;
``on_lookup``/``on_transfer``/``on_recording`` for kinds that wait for the shell), its
part of the JSON schema, its own checks, and how the graph draws it. The registry
(``ivr.flows.nodes.KINDS``) finds the modules by itself, so a new kind is one file plus
its tests.

Rules of this file: node kinds never import the engine. The engine hands them a
``Step`` (the call in progress: read the session, say things, listen, move on, hand the
caller to a person); ``ivr.engine.call.Call`` satisfies it structurally. A hook a kind
does not have raises ``NotImplementedError`` naming the kind: the engine's phase table
only calls a hook in the phase the kind itself entered.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from ivr.model.actions import Action, Speak
from ivr.model.flow import Flow, Node, Prompt
from ivr.model.phases import TransferStatus
from ivr.model.problems import Problem, Where
from ivr.model.session import Session

from ..reader import Context, Reader
from ..schema_parts import node_entry, ref
from ..yamlpos import Y

__all__ = ["Step", "NodeKind", "Heard", "Matched", "Unmatched", "Handled", "Understood", "FieldUse",
           "LOOKUP_FOUND", "sorry"]

N = TypeVar("N", bound=Node)

# The dataflow fact "a lookup found a record on every path here" (templates may use {lookup.FIELD}).
LOOKUP_FOUND = "lookup"


class Step(Protocol):
    """One engine step in progress, as a node kind sees it."""

    flow: Flow
    session: Session
    at: datetime  # when the event happened (the engine never reads a clock)
    actions: list[Action]

    @property
    def language(self) -> str: ...

    def update(self, **changes: Any) -> None:
        """Change the session (``call.update(phase=Phase.LOOKUP)``)."""

    def fields(self) -> dict[str, str]:
        """What templates may name: slots, ``lookup.FIELD`` and ``caller``."""
        ...

    def fill(self, text: str) -> str: ...

    def message(self, key: str, **fields: object) -> str:
        """The line's own message ``key`` (``ivr/model/catalogue``) in the caller's language."""
        ...

    def render(self, prompt: Prompt) -> Speak: ...

    def speak(self, prompt: Prompt | str) -> None: ...

    def listen(self, node: str, prompts: Sequence[Prompt | str], phrases: Sequence[str] = (),
               max_digits: int | None = None, finish_on_key: str = "#", timeout: int | None = None) -> None:
        """Play ``prompts`` and wait for keys or speech (the one waiting action of a prompt)."""

    def goto(self, node_id: str) -> None:
        """Enter another node of the flow now."""

    def escalate(self, reason: str, to: str = "") -> None:
        """Hand the caller to a person (``to``, else the flow's escalation or operator target)."""

    def operator_phrases(self, node_id: str) -> tuple[str, ...]: ...

    def after_hours_instead(self, target: str) -> str:
        """The operator's ``after_hours`` node when ``target`` reaches people and the line
        is closed now; '' otherwise."""
        ...


# --- what a listening node makes of the caller's input ---------------------------------

@dataclass(frozen=True)
class Heard:
    """Keys or words from the caller at a prompt."""

    kind: str  # keys | speech
    text: str
    confidence: float = 1.0


@dataclass(frozen=True)
class Matched:
    """The caller's input was understood: go to ``go``; ``slots`` were filled."""

    go: str
    intent: str
    slots: Mapping[str, str] = field(default_factory=dict)
    human: str = ""  # non-empty: this choice always goes to a person, for this reason


@dataclass(frozen=True)
class Unmatched:
    """Not understood (``no_match``) or understood but not acceptable (``invalid``)."""

    why: str
    result: str = "no_match"


@dataclass(frozen=True)
class Handled:
    """The node answered by itself (e.g. a read-back asking for confirmation)."""

    intent: str = ""
    slots: Mapping[str, str] = field(default_factory=dict)


Understood = Matched | Unmatched | Handled


@dataclass(frozen=True)
class FieldUse:
    """A name a node uses besides its prompts' fields (a lookup URL's ``{order_id}``, a
    branch's variable), for the check that every name is set on every path to it.

    ``what`` is how the message names it ("field", "variable"); ``built_ins`` are names
    always available for this use; ``exempt``: only tested for being set, so it may be unset.
    """

    name: str
    where: Where
    what: str = "field"
    built_ins: tuple[str, ...] = ()
    exempt: bool = False


# --- the node kind ---------------------------------------------------------------------

class NodeKind(Generic[N]):
    """One kind of node of the call-flow language. Subclass it in one module of this
    package and export the instance as ``KIND``; the registry does the rest."""

    key: str  # the YAML key, e.g. "menu"
    node: type[N]  # the node's dataclass; its ``kind`` is ``key``
    description: str = ""  # one line for the schema's list of kinds
    rank = 1000  # where the kind stands when kinds are listed for ops (hints, schema): everyday kinds first

    # What the checks and the graph need to know about the kind.
    automatic = False  # passes the call on without waiting for anything (a loop of these never ends)
    hands_over = False  # reaches a person (a transfer)
    stands_in = False  # what a caller gets when nobody can take the call (a message, a callback promise)
    mermaid_shape = '["%s"]'
    dot_shape = "box"

    # --- reading ------------------------------------------------------------------------
    def parse(self, node_id: str, body: Y, node: Reader, ctx: Context) -> N:
        """The node from its YAML: ``body`` is the value under the kind's key, ``node`` the
        reader of the whole node mapping (for keys beside the kind, such as ``say``'s ``go``)."""
        raise NotImplementedError(f"node kind '{self.key}' cannot be read")

    # --- during a call ------------------------------------------------------------------
    def enter(self, node: N, call: Step) -> None:
        """The call arrives at ``node``: say, ask, fetch or move on. By default, ask."""
        self.listen(node, call, 0)

    def listen(self, node: N, call: Step, attempt: int, sorry: str = "") -> None:
        """Play the prompt for try ``attempt`` (0 first) and wait, after ``sorry`` if given."""
        raise NotImplementedError(f"{self.key} '{node.id}' does not listen")

    def interpret(self, node: N, call: Step, heard: Heard) -> Understood:
        raise NotImplementedError(f"{self.key} '{node.id}' does not listen")

    def resume(self, node: N, call: Step) -> None:
        """The node's waiting action again, for a duplicate or stray webhook."""
        self.enter(node, call)

    def on_lookup(self, node: N, call: Step, outcome: str, data: Mapping[str, Any], detail: str) -> None:
        raise NotImplementedError(f"{self.key} '{node.id}' does not wait for a lookup")

    def on_transfer(self, node: N, call: Step, status: TransferStatus, target: str) -> None:
        raise NotImplementedError(f"{self.key} '{node.id}' does not wait for a transfer")

    def on_recording(self, node: N, call: Step, url: str, duration: float) -> None:
        raise NotImplementedError(f"{self.key} '{node.id}' does not wait for a recording")

    def on_heard(self, node: N, call: Step) -> None:
        """The caller heard what the node told them (a promise that counts only once heard)."""
        raise NotImplementedError(f"{self.key} '{node.id}' does not wait to be heard")

    # --- the JSON schema ----------------------------------------------------------------
    def schema_defs(self) -> dict[str, Any]:
        """Definitions this kind adds to the schema's ``$defs`` (e.g. ``menu``, ``option``)."""
        return {}

    def schema_node(self) -> dict[str, Any]:
        """The kind's entry in the list of node shapes (an object requiring the kind's key)."""
        return node_entry(self.key, self.description or self.key, ref(self.key))

    # --- checks ---------------------------------------------------------------------------
    def check(self, node: N, flow: Flow, ctx: Context) -> None:
        """Append the node's own problems to ``ctx`` (after the whole flow is read)."""

    def check_without_person(self, node: N, flow: Flow, ctx: Context) -> None:
        """The flow names no person to hand callers to: report what in this node needs one."""

    def check_loaded(self, node: N, flows: Mapping[str, Flow]) -> Iterable[Problem]:
        """Problems only the whole set of loaded flows shows (e.g. a ``goto`` to a missing flow)."""
        return ()

    def facts(self, node: N, label: str) -> tuple[str, str]:
        """(fact set, fact cleared) when a call leaves ``node`` by the edge ``label``: the
        slot it fills, or ``LOOKUP_FOUND``."""
        filled = node.slots_set()
        return (filled[0] if filled else "", "")

    def record_fields(self, node: N) -> tuple[str, ...] | None:
        """The fields of the record the node finds along ``LOOKUP_FOUND`` (what
        ``{lookup.FIELD}`` may name after it), when the flow says them; None when unknown."""
        return None

    def field_uses(self, node: N, ctx: Context) -> Iterable[FieldUse]:
        """Names used outside the node's prompts (prompts are checked for every kind)."""
        return ()

    # --- the graph ------------------------------------------------------------------------
    def person_exits(self, node: N) -> tuple[str, ...]:
        """Labels of the ways the engine itself sends a call from here to a person."""
        return ()

    def graph_note(self, node: N) -> str:
        """A short line a drawing adds under the node's name and kind (e.g. a goto's flow)."""
        return ""

    def edge_label(self, node: N, label: str, target: str) -> str:
        """How a drawing labels the edge ``label`` to ``target``."""
        return label


def sorry(call: Step, no_input: bool) -> str:
    """The apology before a prompt is asked again, in the caller's language."""
    return call.message("sorry_no_input" if no_input else "sorry_no_match")
