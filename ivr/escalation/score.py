"""Combine the signals into one judgement: does this caller need a person now?

``assess(settings, session)`` runs every check in ``signals.CHECKS`` on the session as it
is after the newest caller event and returns an ``Assessment``: a score in [0, 1], the
reasons (each signal that fired, with its contribution and a sentence an agent can
read), whether a person is needed *now* regardless of the threshold, and the human topic
that fired, if any.

How the score is made (noisy-or). Each signal that fires contributes
``c = weight * strength`` (``weight`` from ``settings.weights`` or
``signals.DEFAULT_WEIGHTS``; ``strength`` in [0, 1] from the check). The contributions
are treated as independent pieces of evidence that the caller needs a person::

    score = 1 - (1 - c1) * (1 - c2) * ...

Why noisy-or rather than a sum: the score stays in [0, 1] without clipping; one signal
alone never scores more than its weight, so a weight reads as "how sure this signal is
on its own" (a weight at or above the threshold means "this alone is enough"); two
moderate signals (a misunderstanding and a sigh) add up to more than either, but ten
weak ones approach 1 only slowly; and adding a signal that did not fire changes nothing.

``immediate`` is True when the caller asked for a person or raised a topic in
``settings.human_topics``: those go to a person whatever the score. A weight of 0 turns a
signal off (it then neither scores nor makes the call immediate).
"""
from __future__ import annotations

from dataclasses import dataclass

from ivr.escalation.signals import ALL_SIGNALS, CHECKS, DEFAULT_WEIGHTS
from ivr.model.escalation import EscalationSettings
from ivr.model.session import Reason, Session

__all__ = ["Assessment", "assess", "combine", "IMMEDIATE_SIGNALS"]

IMMEDIATE_SIGNALS = frozenset({"explicit_request", "human_topic"})


@dataclass(frozen=True)
class Assessment:
    """The detector's judgement after one caller event.

    ``score`` in [0, 1]; ``reasons`` the signals that fired, strongest first, each with
    its contribution to the score and a sentence for the agent; ``immediate`` True when a
    person is needed now regardless of the threshold (explicit request, human topic);
    ``topic`` the human topic that fired, if any.
    """

    score: float
    reasons: tuple[Reason, ...]
    immediate: bool
    topic: str = ""

    def needs_person(self, threshold: float) -> bool:
        """True when the call should go to a person at this ``threshold``."""
        return self.immediate or self.score >= threshold

    def summary(self) -> str:
        """One line for an agent: the score and the reasons, strongest first."""
        if not self.reasons:
            return f"score {self.score:.2f}: no signs of trouble"
        said = "; ".join(r.detail for r in self.reasons)
        return f"score {self.score:.2f}: {said}"


def combine(contributions: list[float]) -> float:
    """Noisy-or of contributions in [0, 1], rounded to 3 decimals (see module doc)."""
    keep = 1.0
    for c in contributions:
        keep *= 1.0 - min(1.0, max(0.0, c))
    return round(1.0 - keep, 3)


def assess(settings: EscalationSettings, session: Session) -> Assessment:
    """Judge the call as it stands after its newest caller event.

    Pure and deterministic: reads only ``settings`` and ``session`` (the newest turn is
    ``session.turns[-1]``; ``session.path`` and ``session.t`` are used too).
    """
    reasons: list[Reason] = []
    immediate = False
    topic = ""
    for name in ALL_SIGNALS:
        check = CHECKS.get(name)
        weight = float(settings.weights.get(name, DEFAULT_WEIGHTS.get(name, 0.0)))
        if check is None or weight <= 0.0:
            continue
        found = check(settings, session)
        if found is None or found.strength <= 0.0:
            continue
        reasons.append(Reason(name, round(min(1.0, weight * found.strength), 3), found.detail))
        if name in IMMEDIATE_SIGNALS:
            immediate = True
            topic = topic or found.topic
    reasons.sort(key=lambda r: -r.weight)
    return Assessment(combine([r.weight for r in reasons]), tuple(reasons), immediate, topic)
