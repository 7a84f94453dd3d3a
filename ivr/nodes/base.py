"""What node kinds share: how a listening node reports what it understood.

Every node kind is one module in this package with its dataclass, ``parse`` (its part of
the YAML language) and its step functions; ``ivr.nodes.REGISTRY`` maps the YAML key to
the module. Listening kinds (``menu``, ``collect``) also provide ``listen`` (play the
prompt for the n-th try) and ``interpret`` (make sense of keys or speech).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


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


SORRY_NO_INPUT = "Sorry, I didn't hear anything."
SORRY_NO_MATCH = "Sorry, I didn't get that."
