"""The context record of a call handed to a person, and its spoken summary.

One JSON-able document: who is calling, what they wanted, what they already said and
pressed, why they come to a person and how upset they seem. Secret slots are masked
here, so nothing that leaves the engine carries a PIN or a card number.
"""
from __future__ import annotations

from typing import Any

from ivr.model.flow import Flow

from .session import Session

__all__ = ["MASK", "UPSET_SIGNALS", "build_context", "masked_slots", "mood", "summary", "upset_score",
           "whisper_text"]

MASK = "••••"


def masked_slots(flow: Flow, session: Session) -> dict[str, str]:
    return {k: (MASK if k in flow.secrets else v) for k, v in session.slots.items()}


# Signs that a caller is upset: their words, their voice, failing again and again. Asking
# for a person, a topic that needs one, or a long call are reasons to hand over, not moods.
UPSET_SIGNALS = frozenset({"negative_sentiment", "loudness", "no_input", "no_match", "revisit", "repeated_intent",
                           "low_confidence"})


def mood(score: float) -> str:
    if score >= 0.7:
        return "upset"
    if score >= 0.4:
        return "somewhat frustrated"
    return "calm"


def upset_score(session: Session) -> float:
    """How upset the caller seems, from real signs of it only (see ``UPSET_SIGNALS``)."""
    return min(1.0, sum(r.weight for r in session.reasons if r.signal in UPSET_SIGNALS))


def build_context(flow: Flow, session: Session) -> dict[str, Any]:
    intents = [t.intent for t in session.turns
               if t.result == "matched" and t.intent and getattr(flow.nodes.get(t.node), "kind", "") == "menu"]
    return {
        "call_sid": session.call_sid,
        "caller": session.caller,
        "verified": session.verified,
        "flow": flow.name,
        "flow_version": session.flow_version,
        "language": session.language or flow.language,
        "started_at": session.started_at,
        "seconds_in_automation": round(session.t, 1),
        "path": list(session.path),
        "turns": [
            {"t": round(t.t, 1), "node": t.node, "kind": t.kind, "text": t.text, "result": t.result,
             "intent": t.intent, "confidence": t.confidence,
             **({"loudness_dbfs": round(t.loudness_dbfs, 1)} if t.loudness_dbfs is not None else {})}
            for t in session.turns
        ],
        "intents": intents,
        "slots": masked_slots(flow, session),
        "lookups": [dict(x) for x in session.lookups],
        "escalation": {
            "score": round(session.score, 2),
            "mood": mood(upset_score(session)),
            "reasons": [{"signal": r.signal, "weight": round(r.weight, 2), "detail": r.detail} for r in session.reasons],
        },
        "reason": session.transfer_reason,
        **({"callback": dict(session.callback)} if session.callback else {}),
        "transfers": [dict(x) for x in session.transfers],
    }


def summary(context: dict[str, Any]) -> str:
    """A whisper for the agent, short enough to speak in under 15 seconds."""
    return whisper_text(context)


def whisper_text(context: dict[str, Any]) -> str:
    """What the agent hears before taking the call, in plain words: who (the last four
    digits, verified or not), what they want, why they come to a person, and their mood
    only when there are real signs of upset (never for the request for a person)."""
    caller = context.get("caller") or "an unknown number"
    spaced = " ".join(caller[-4:]) if caller and caller[-4:].isdigit() else caller
    who = f"Caller ending in {spaced}" if caller and caller[-4:].isdigit() else f"Caller from {caller}"
    who += ", verified." if context.get("verified") else ", not verified."
    intents = context.get("intents") or []
    wants = f" Wants {intents[-1]}." if intents else ""
    reason = (context.get("reason") or "needs help").rstrip(".")
    mood_text = context.get("escalation", {}).get("mood", "calm")
    feeling = f" Seems {mood_text}." if mood_text != "calm" else ""
    head = f"{who}{wants}{feeling}".split()
    why = f"{reason[:1].upper() + reason[1:]}.".split()
    room = max(WHISPER_WORDS - len(head), 6)  # the reason is cut, never who or how they feel
    return " ".join(head + why[:room]).rstrip(".,;:") + "."


WHISPER_WORDS = 38  # about 15 seconds spoken
