"""The context record of a call handed to a person, and its spoken summary.

One JSON-able document: who is calling, what they wanted, what they already said and
pressed, why they come to a person and how upset they seem. Secret slots are masked
here, so nothing that leaves the engine carries a PIN or a card number.
"""
from __future__ import annotations

from typing import Any

from ivr.model.flow import Flow

from .session import Session

MASK = "••••"


def masked_slots(flow: Flow, session: Session) -> dict[str, str]:
    return {k: (MASK if k in flow.secrets else v) for k, v in session.slots.items()}


def mood(score: float) -> str:
    if score >= 0.7:
        return "upset"
    if score >= 0.4:
        return "somewhat frustrated"
    return "calm"


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
            "mood": mood(session.score),
            "reasons": [{"signal": r.signal, "weight": round(r.weight, 2), "detail": r.detail} for r in session.reasons],
        },
        "reason": session.transfer_reason,
        **({"callback": dict(session.callback)} if session.callback else {}),
        "transfers": [dict(x) for x in session.transfers],
    }


def summary(context: dict[str, Any]) -> str:
    """A whisper for the agent, short enough to speak in under 15 seconds."""
    caller = context.get("caller") or "an unknown number"
    spaced = " ".join(caller[-4:]) if caller and caller[-4:].isdigit() else caller
    who = f"Caller ending in {spaced}" if caller and caller[-4:].isdigit() else f"Caller from {caller}"
    who += ", verified." if context.get("verified") else ", not verified."
    intents = context.get("intents") or []
    wants = f" Wants {intents[-1]}." if intents else ""
    reason = context.get("reason") or "needs help"
    mood_text = context.get("escalation", {}).get("mood", "calm")
    text = f"{who}{wants} Reason: {reason}. Caller seems {mood_text}."
    words = text.split()
    return " ".join(words[:38]) + ("." if len(words) > 38 else "")
