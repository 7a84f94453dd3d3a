"""What every signal returns, and the small readers of a session the checks share.

A check has one shape: ``check(settings, session) -> Finding | None``: how strongly the
signal is present (``strength`` in [0, 1]) and a sentence an agent can read, or None.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ivr.model.escalation import EscalationSettings
from ivr.model.session import Session, Turn

__all__ = ["Finding", "Check", "newest", "speech", "quote"]


@dataclass(frozen=True)
class Finding:
    """A signal that fired: how strongly (0..1), why, and the topic (human_topic only)."""

    strength: float
    detail: str
    topic: str = ""


Check = Callable[[EscalationSettings, Session], "Finding | None"]


def newest(session: Session) -> Turn | None:
    """The caller's newest turn, or None before the first."""
    return session.turns[-1] if session.turns else None


def speech(session: Session) -> list[Turn]:
    """The turns in which the caller said something."""
    return [t for t in session.turns if t.kind == "speech" and t.text.strip()]


def quote(text: str, limit: int = 60) -> str:
    """The caller's words in quotes, shortened for an agent's screen."""
    text = " ".join(text.split())
    return f'"{text}"' if len(text) <= limit else f'"{text[:limit - 3]}..."'
