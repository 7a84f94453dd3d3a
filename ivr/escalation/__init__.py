"""Knowing when a caller needs a person: frustration and complexity detection.

The engine calls ``assess(settings, session)`` after every caller event; it returns an
``Assessment`` (score in [0, 1], the reasons that fired, ``immediate`` for an explicit
request or a human topic, and the topic). ``run_eval_cli`` measures the detector on the
labelled corpus (``ivr eval escalation``).
"""
from ivr.escalation.score import Assessment, assess, combine
from ivr.escalation.sentiment import Negativity, negativity
from ivr.escalation.settings import SIGNALS, EscalationSettings
from ivr.escalation.signals import CHECKS, DEFAULT_WEIGHTS, Finding


def run_eval_cli(argv: list[str]) -> int:
    """``ivr eval escalation [CORPUS] [--threshold X]``; see ``evaluate.run_eval_cli``."""
    from ivr.escalation.evaluate import run_eval_cli as run

    return run(argv)


__all__ = ["assess", "Assessment", "combine", "EscalationSettings", "SIGNALS", "CHECKS",
           "DEFAULT_WEIGHTS", "Finding", "negativity", "Negativity", "run_eval_cli"]
