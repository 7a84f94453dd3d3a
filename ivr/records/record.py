"""One finished call, as the durable record keeps it: the nouns of ``ivr.records``.

A ``CallRecord`` is what reports, survey answers, dispositions and (later) caller memory
read once the call's hot state has expired. It says which flow and version served the
call, when it started and ended, the path through the flow with the time spent and the
silences and misunderstandings at each node, how it ended, every attempt to reach a
person (who was rung, how it ended, how long it rang), how long the caller held, the
escalation score and its signals, and the language.

Rules of this file:
* Nothing a caller said or keyed is kept: no slot values (only the names of the slots
  that were filled), no transcripts, no detector sentences (they may quote the caller),
  only signal names and weights. A secret slot's value can therefore never be here.
* Times inside a call are seconds since it started (``entered_s``, ``started_s``); the
  call's own start and end are aware UTC datetimes.
* Why a call went to a person is one word of ``REASON_KINDS``, read from the engine's
  reason sentence by ``reason_kind``; the sentence is kept too, cut before any detail in
  parentheses (a back end's error detail can carry a URL with the caller's data), except
  the detector's, which quote the caller: of those only the signal names are kept.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["NodeVisit", "TransferAttempt", "CallRecord", "REASON_KINDS", "OUTCOMES", "reason_kind",
           "public_reason"]

# Why a call went to a person:
#   asked      the caller asked (operator key or phrase) or chose an option that needs a person
#   escalated  the frustration and complexity detector handed the call over (or the caller accepted its offer)
#   retries    the flow's retry limit: no response or not understood too many times
#   error      a back end was unavailable, or a technical problem in the call flow
#   flow       the flow sends callers to a person at this point by design ("Order number not found twice")
REASON_KINDS: tuple[str, ...] = ("asked", "escalated", "retries", "error", "flow")

# How a call ended, in the engine's words (Session.outcome).
OUTCOMES: tuple[str, ...] = ("contained", "transferred", "voicemail", "callback", "abandoned",
                             "abandoned_on_hold", "error")

_ASKED = (re.compile(r"^Caller asked for a person"), re.compile(r"^Caller chose '.*', which needs a person"))
_RETRIES = re.compile(r"^(No response|Not understood) \d+ times")
_ERROR = ("back end unavailable", "A technical problem")
_ESCALATED = ("Caller raised ", "The caller seems to need a person")


def reason_kind(reason: str, signal_details: Sequence[str] = ()) -> str | None:
    """The kind of a transfer reason sentence (None for no reason: no transfer).

    ``signal_details`` are the detector's sentences at the time of the transfer; a reason
    made of them is the detector's. Anything not recognised is the flow's own reason."""
    if not reason:
        return None
    if any(p.match(reason) for p in _ASKED):
        return "asked"
    if _RETRIES.match(reason):
        return "retries"
    if reason.startswith(_ERROR):
        return "error"
    if reason.startswith(_ESCALATED) or any(d and reason.startswith(d) for d in signal_details):
        return "escalated"
    return "flow"


def public_reason(reason: str) -> str:
    """The reason sentence as kept: without a detail in parentheses that may carry data."""
    return reason.split(" (", 1)[0].strip()


@dataclass(frozen=True)
class NodeVisit:
    """One stop on the call's path: the node, when it was entered (seconds since the call
    started), how long the caller spent there, and the silences (``no_input``) and
    misunderstandings (``no_match``, invalid values included) there."""

    node: str
    entered_s: float
    spent_s: float
    no_input: int = 0
    no_match: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"node": self.node, "entered_s": self.entered_s, "spent_s": self.spent_s,
                "no_input": self.no_input, "no_match": self.no_match}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NodeVisit:
        return cls(str(data["node"]), float(data["entered_s"]), float(data["spent_s"]),
                   int(data.get("no_input", 0)), int(data.get("no_match", 0)))


@dataclass(frozen=True)
class TransferAttempt:
    """One agent (or queue) rung while the caller held: ``agent`` is the transfer target
    (``client:alice``, ``+15005550010``, ``queue:support``); ``status`` how it ended (a
    ``TransferStatus`` word, or ``caller_hung_up`` when the caller left while it rang);
    ``started_s``/``ended_s`` seconds since the call started."""

    agent: str
    status: str
    started_s: float
    ended_s: float

    @property
    def rang_s(self) -> float:
        return max(self.ended_s - self.started_s, 0.0)

    @property
    def accepted(self) -> bool:
        return self.status == "answered"


@dataclass(frozen=True)
class CallRecord:
    """The durable record of one finished call (see the module docstring for what is
    never in it). ``csat``, ``survey``, ``disposition`` and ``disposition_by`` are filled
    by the survey and the agent's wrap-up, after the call; they start empty."""

    call_sid: str
    flow: str
    flow_version: str
    caller: str
    dialled: str
    started_at: datetime
    ended_at: datetime
    language: str
    outcome: str
    path: tuple[NodeVisit, ...] = ()
    transfers: tuple[TransferAttempt, ...] = ()
    transfer_kind: str | None = None
    transfer_reason: str | None = None
    hold_s: float | None = None
    answered_by: str | None = None
    score: float = 0.0
    signals: tuple[tuple[str, float], ...] = ()
    turns: int = 0
    verified: bool = False
    slots_filled: tuple[str, ...] = ()
    csat: int | None = None
    survey: Mapping[str, Any] | None = None
    disposition: str | None = None
    disposition_by: str | None = None
    needed_person: bool | None = None  # the agent's wrap-up: did this call need a person?
    disposition_at: datetime | None = None

    @property
    def duration_s(self) -> float:
        return max((self.ended_at - self.started_at).total_seconds(), 0.0)

    @property
    def last_node(self) -> str:
        return self.path[-1].node if self.path else ""

    @property
    def no_input(self) -> int:
        return sum(v.no_input for v in self.path)

    @property
    def no_match(self) -> int:
        return sum(v.no_match for v in self.path)

    @property
    def hung_up(self) -> bool:
        """The caller hung up before the call was served or connected (in the menus or on hold)."""
        return self.outcome in ("abandoned", "abandoned_on_hold")
