"""The context record of a call handed to a person, and its spoken summary.

One JSON-able document: who is calling, what they wanted, what they already said and
pressed, why they come to a person and how upset they seem. Secret slots are masked
here, so nothing that leaves the engine carries a PIN or a card number.
"""
from __future__ import annotations

from typing import Any

from ivr.model.flow import Flow
from ivr.model.messages import Messages, english, language_key, matches

from .memory import repeat_text
from .session import Session

__all__ = ["MASK", "UPSET_SIGNALS", "build_context", "history", "masked_slots", "mood", "summary", "upset_score",
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


# What the engine records at a menu that is not an option the caller chose: the answer to
# the offer of a person, a key no option lists.
NOT_CHOICES = frozenset({"offer accepted", "offer declined", "other key"})


def build_context(flow: Flow, session: Session) -> dict[str, Any]:
    intents = [t.intent for t in session.turns
               if t.result == "matched" and t.intent and t.intent not in NOT_CHOICES
               and getattr(flow.nodes.get(t.node), "kind", "") == "menu"]
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
        **({"history": history(session)} if session.memory.get("known") else {}),
        "transfers": [dict(x) for x in session.transfers],
    }


def history(session: Session) -> dict[str, Any]:
    """What the caller's memory says for the agent: this call's topic, how many earlier
    calls were about it within the flow's repeat window, a few words for the whisper
    ("second call about order status in 2 hours", else "called before about ..."), the
    last calls (when, topic, outcome) and callbacks promised earlier that are still due."""
    memory = session.memory
    calls = [{"at": c.get("at", ""), "topic": c.get("topic", ""), "outcome": c.get("outcome", "")}
             for c in memory.get("calls") or ()]
    earlier = (memory.get("repeats") or {}).get(session.topic) if session.topic else None
    if earlier and earlier.get("count"):
        again = repeat_text(session.topic, int(earlier["count"]), str(earlier.get("since", "")), session.started_at)
    elif calls and calls[0]["topic"]:
        again = f"called before about {calls[0]['topic']}"
    else:
        again = "called before" if calls else ""
    return {"topic": session.topic, "earlier": int(earlier["count"]) if earlier else 0, "again": again, "calls": calls,
            "callbacks": list(memory.get("callbacks") or ())}  # callbacks promised on earlier calls, still due


def summary(context: dict[str, Any]) -> str:
    """The whisper in English, for the agent console and the terminal simulator."""
    return whisper_text(context)


# Why a caller comes to a person, as the engine words it (in English, for ops): said again
# in the agent's language from the same message's fields.
REASONS = ("reason_asked", "reason_option", "reason_topic", "reason_no_response", "reason_not_understood",
           "reason_flow", "reason_problem", "reason_seems_to_need", "reason_backend")
QUOTE_WORDS = 12  # the caller's own words quoted in the whisper, at most


def whisper_text(context: dict[str, Any], words: Messages | None = None) -> str:
    """What the agent hears before taking the call, in plain words of the agent's language
    (``words``; default English): who (the last four digits, verified or not), what they
    want, their mood only when there are real signs of upset (never for the request for a
    person), why they come to a person, and the caller's last words quoted as said."""
    words = words or english()
    caller = context.get("caller") or ""
    if caller and caller[-4:].isdigit():
        who = words.text("whisper_caller_ending", digits=" ".join(caller[-4:]))
    else:
        who = words.text("whisper_caller_from", caller=caller or words.text("whisper_unknown_number"))
    who += words.text("whisper_verified" if context.get("verified") else "whisper_not_verified")
    intents = context.get("intents") or []
    wants = " " + words.text("whisper_wants", intent=intents[-1]) if intents else ""
    mood_text = context.get("escalation", {}).get("mood", "calm")
    feeling = {"upset": " " + words.text("whisper_upset"),
               "somewhat frustrated": " " + words.text("whisper_frustrated")}.get(mood_text, "")
    again = str((context.get("history") or {}).get("again") or "")  # a caller the line remembers
    if again and (language_key(words.language) == "en" or not again.isascii()):
        wants += f" {again[:1].upper() + again[1:]}."
    head = f"{who}{wants}{feeling}".split()
    why = _spoken_reason(context.get("reason") or "", words).split()
    room = max(WHISPER_WORDS - len(head), 6)  # the reason is cut, never who or how they feel
    said = _last_words(context)
    quote = []
    if said and room - len(why) >= 3:
        quote = words.text("whisper_said", words=f'"{" ".join(said[:min(QUOTE_WORDS, room - len(why) - 1)])}"').split()
    return " ".join(head + why[:room] + quote).rstrip(".,;:") + "."


def _spoken_reason(reason: str, words: Messages) -> str:
    """The reason in ``words``' language: a reason the engine words from the line's
    messages is said again from its fields; the flow's own words (a transfer's
    ``reason:``) as written; English details of the detector in an English whisper only."""
    reason = reason.strip().rstrip(".")
    if not reason:
        return words.text("whisper_needs_help")
    found = matches(REASONS, reason)
    if found is not None and language_key(words.language) != "en":
        reason = words.text(found[0], **found[1]).rstrip(".")
    elif found is None and language_key(words.language) != "en" and reason.isascii():
        reason = words.text("reason_seems_to_need").rstrip(".")
    return f"{reason[:1].upper() + reason[1:]}."


def _last_words(context: dict[str, Any]) -> list[str]:
    """The caller's last spoken words that say something (a sentence rather than a bare
    "yes"), else their last words; never a secret answer, which the record masks."""
    said = [(turn.get("text") or "").split() for turn in context.get("turns") or []
            if turn.get("kind") == "speech" and (turn.get("text") or "").strip() and MASK not in (turn.get("text") or "")]
    return next((words for words in reversed(said) if len(words) > 1), said[-1] if said else [])


WHISPER_WORDS = 38  # about 15 seconds spoken
