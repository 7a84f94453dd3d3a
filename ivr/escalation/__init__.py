"""Knowing when a caller needs a person: frustration and complexity detection.

The engine calls ``assess(settings, session)`` after every caller event; it returns an
``Assessment`` (score in [0, 1], the reasons that fired, ``immediate`` for an explicit
request or a human topic, and the topic). Measuring the detector on a labelled corpus is
a shell of its own: ``ivr.evaluation`` (``ivr eval escalation``).
"""
from ivr.escalation.score import Assessment, assess, combine
from ivr.escalation.sentiment import Negativity, aimed_negativity, negativity
from ivr.escalation.signals import ALL_SIGNALS, CHECKS, DEFAULT_WEIGHTS, Finding
from ivr.model.escalation import SIGNALS, EscalationSettings

__all__ = ["assess", "Assessment", "combine", "EscalationSettings", "SIGNALS", "CHECKS",
           "DEFAULT_WEIGHTS", "ALL_SIGNALS", "Finding", "negativity", "aimed_negativity", "Negativity"]
