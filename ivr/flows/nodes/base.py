"""What node kinds share: how a listening node reports what it understood.

Every node kind is one module in this package with its dataclass, ``parse`` (its part of
the YAML language) and its step functions; ``ivr.flows.nodes.REGISTRY`` maps the YAML key to
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
SORRY = {  # language -> (no input, no match)
    "en": (SORRY_NO_INPUT, SORRY_NO_MATCH),
    "ko": ("죄송합니다. 아무 말씀도 듣지 못했습니다.", "죄송합니다. 잘 알아듣지 못했습니다."),
}


def sorry(language: str, no_input: bool) -> str:
    pair = SORRY.get(language.split("-")[0], SORRY["en"])
    return pair[0] if no_input else pair[1]
