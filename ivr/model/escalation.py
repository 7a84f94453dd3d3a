"""Per-flow settings of the escalation detector (the flow's ``escalation:`` block)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Every signal the detector knows, in the order an agent reads them.
SIGNALS: tuple[str, ...] = (
    "explicit_request",
    "human_topic",
    "negative_sentiment",
    "no_input",
    "no_match",
    "revisit",
    "repeated_intent",
    "loudness",
    "long_utterance",
    "multi_intent",
    "low_confidence",
    "time_in_ivr",
    "pushback",
    "giving_up",
    "repeat_contact",
)

DEFAULT_TOPICS: Mapping[str, tuple[str, ...]] = {
    "complaint": ("complaint", "complain", "file a complaint"),
    "cancel": ("cancel my account", "cancel my subscription", "close my account"),
    "fraud": ("fraud", "stolen card", "identity theft", "didn't make this charge", "unauthorized charge"),
    "bereavement": ("passed away", "died", "death in the family", "bereavement"),
    "legal": ("lawyer", "attorney", "legal action", "sue you", "lawsuit"),
}


@dataclass(frozen=True)
class EscalationSettings:
    """``threshold``: score at which the caller is handed to a person.
    ``mode``: ``transfer`` (go straight) or ``offer`` (ask "Would you like to speak to
    someone?" first). ``weights`` override the detector's default weight per signal.
    ``human_topics`` maps a topic to phrases that always need a person.
    ``max_automated_seconds``: time in the automated part before it counts as a signal.
    ``to``: the node that takes escalated calls (empty: the operator's target)."""

    threshold: float = 0.7
    mode: str = "transfer"
    weights: Mapping[str, float] = field(default_factory=dict)
    human_topics: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_TOPICS))
    max_automated_seconds: float = 300.0
    to: str = ""
