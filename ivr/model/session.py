"""The state of one call, as the engine sees it.

A ``Session`` is immutable: the engine returns a new one from every step. It is plain
data (strings, numbers, tuples, dicts; ``phase`` is a ``Phase``, a string enum) so that a store can keep it as JSON and any host
can continue the call (``to_dict`` / ``from_dict`` round-trip exactly).

Rules of this file: times are kept as seconds since the call started (``t``) plus the
ISO start time, so nothing here needs a clock; slot values are strings; secret slots are
stored (the call needs them) but masked everywhere they leave the engine.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .phases import Phase
from .plain import evolved, of_plain, to_plain

__all__ = ["Turn", "Reason", "Session"]


@dataclass(frozen=True)
class Turn:
    """One thing the caller did at a prompt.

    ``kind`` is ``keys``, ``speech`` or ``silence``. ``text`` is the digits or the
    transcript (already masked when it filled a secret slot). ``result`` is what the
    engine made of it: ``matched``, ``no_match``, ``operator`` (asked for a person),
    ``invalid`` (a slot value that failed validation) or ``silence``. ``intent`` names the
    option or slot it matched.
    """

    t: float
    node: str
    kind: str
    text: str = ""
    confidence: float = 1.0
    loudness_dbfs: float | None = None
    duration: float | None = None
    result: str = ""
    intent: str = ""


@dataclass(frozen=True)
class Reason:
    """Why the escalation score rose: a signal, its weight and a sentence for the agent."""

    signal: str
    weight: float
    detail: str


@dataclass(frozen=True)
class Session:
    call_sid: str
    flow: str
    flow_version: str
    started_at: str
    caller: str = ""
    to: str = ""
    language: str = ""
    node: str = ""
    phase: Phase = Phase.NEW  # a plain string ("listening") is accepted and read as its Phase
    t: float = 0.0  # seconds since start at the last event
    slots: Mapping[str, str] = field(default_factory=dict)
    lookup: Mapping[str, Any] = field(default_factory=dict)  # the latest lookup's data
    lookups: tuple[Mapping[str, Any], ...] = ()  # every lookup: node, outcome, data
    no_input: int = 0  # consecutive silences at the current prompt
    no_match: int = 0  # consecutive misunderstandings at the current prompt
    pending: str = ""  # a value awaiting read-back confirmation
    path: tuple[str, ...] = ()
    turns: tuple[Turn, ...] = ()
    score: float = 0.0
    reasons: tuple[Reason, ...] = ()
    offered: bool = False  # a transfer was offered and the caller said no
    transfer_reason: str = ""
    transfer_attempt: int = 0
    transfers: tuple[Mapping[str, Any], ...] = ()  # attempts: target, status, t
    hold_from: str = ""  # when the caller started holding for a person (ISO time of the event)
    attempt_from: str = ""  # when the current transfer attempt started ringing
    outcome: str = ""  # contained | transferred | voicemail | abandoned | error
    verified: bool = False
    recording: Mapping[str, Any] = field(default_factory=dict)
    callback: Mapping[str, Any] = field(default_factory=dict)  # a promise to call back: number, due_by
    # the survey after the call: after (self_service | agent), status, csat (1-5), comment {url, duration}
    survey: Mapping[str, Any] = field(default_factory=dict)
    # caller memory (ivr.model.memory): what this call knows of the caller's earlier calls,
    # the topic this call is about (a menu option the flow remembers), and the shortcut
    # to the last topic while it is on offer
    memory: Mapping[str, Any] = field(default_factory=dict)
    topic: str = ""
    shortcut: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if type(self.phase) is not Phase:
            object.__setattr__(self, "phase", Phase(self.phase))  # ValueError names an unknown phase

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (``phase`` as its word), every field, by a plan made once from
        the fields' types (``ivr.model.plain``): a new field needs nothing here."""
        return to_plain(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Session:
        """The session ``to_dict`` gave (keys this version does not know are ignored)."""
        return of_plain(cls, data)

    def evolve(self, **changes: Any) -> Session:
        """This session with ``changes`` (``dataclasses.replace``, at a copy's cost)."""
        return evolved(self, changes)
