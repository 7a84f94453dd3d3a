"""The signals that say a caller needs a person, one function each, in one registry.

Every check has the same shape: ``check(settings, session) -> Finding | None``. It looks
at the session as it is after the newest caller event (``session.turns[-1]``) and returns
how strongly the signal is present (``strength`` in [0, 1]) and a sentence an agent can
read, or None when the signal is absent. ``score.assess`` multiplies the strength by the
signal's weight. Checks are pure: no I/O, no clock, no randomness.

Rules of this file:

* Signals about *what was said* (explicit request, human topic, sentiment, long or
  multi-request utterances) read only the newest turn (sentiment also remembers the two
  speech turns before it, fading), so a request the caller already withdrew, or an
  offer they declined, does not fire again on every later event.
* Signals about *how the call is going* (failures, revisits, repeats, confidence,
  loudness, time) read the history.
* A negation in the three words before a phrase cancels it ("I don't want to cancel my
  account", "this isn't a complaint"). Topic phrases match by their content words, close
  together in any order, with short suffixes ("card was stolen" ~ "stolen card",
  "fraudulent" ~ "fraud"); a topic word right after a thing ("my phone died") is skipped.
* Long and multi-request utterances count more when the menu could not place them (an
  unservable story) than when it could (a chatty but routine caller).
* Repeating an intent is weak evidence; giving the *same value* again (the same order
  number after it was looked up) says the first answer did not help, and is strong.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from statistics import median

from ivr.escalation.sentiment import negativity
from ivr.model.escalation import EscalationSettings
from ivr.model.session import Session, Turn
from ivr.understanding.person import asks_for_person, negated_before, words

__all__ = ["Finding", "Check", "CHECKS", "DEFAULT_WEIGHTS", "OPERATOR_PHRASES", "OPERATOR_DIGIT"]

# The operator escape (the flow's ``operator:`` block) as the demo flow defines it.
OPERATOR_PHRASES: tuple[str, ...] = ("agent", "representative", "operator", "human", "a person", "someone")
OPERATOR_DIGIT = "0"

# Default weight per signal: the most a signal adds on its own (see score.py).
DEFAULT_WEIGHTS: dict[str, float] = {
    "explicit_request": 1.0,
    "human_topic": 1.0,
    "negative_sentiment": 0.85,
    "no_input": 0.75,
    "no_match": 0.75,
    "revisit": 0.5,
    "repeated_intent": 0.7,
    "loudness": 0.45,
    "long_utterance": 0.6,
    "multi_intent": 0.75,
    "low_confidence": 0.5,
    "time_in_ivr": 0.75,
}

FAILURES = ("no_match", "invalid", "silence")
# Intents that repeat in any healthy call ("anything else?" -> "yes").
_ROUTINE_INTENTS = frozenset({"yes", "no", "confirm", "deny", "more", "done", "goodbye", "repeat"})
# Words that are not the content of a topic phrase ("cancel MY account").
_STOP = frozenset({"my", "a", "an", "the", "this", "that", "your", "our", "of", "in", "on", "to", "for"})
# A topic word right after one of these is about a thing ("my phone died").
_THINGS = frozenset({
    "phone", "battery", "car", "laptop", "computer", "tablet", "it", "call", "line", "engine",
    "printer", "machine", "device", "signal", "charger", "app", "screen", "tv", "plant", "light",
})


@dataclass(frozen=True)
class Finding:
    """A signal that fired: how strongly (0..1), why, and the topic (human_topic only)."""

    strength: float
    detail: str
    topic: str = ""


Check = Callable[[EscalationSettings, Session], "Finding | None"]


def _newest(session: Session) -> Turn | None:
    return session.turns[-1] if session.turns else None


def _speech(session: Session) -> list[Turn]:
    return [t for t in session.turns if t.kind == "speech" and t.text.strip()]


def _failure_run(session: Session) -> list[Turn]:
    """The newest turns at the newest turn's node that all failed, newest last."""
    newest = _newest(session)
    run: list[Turn] = []
    if newest is None:
        return run
    for turn in reversed(session.turns):
        if turn.node != newest.node or turn.result not in FAILURES:
            break
        run.append(turn)
    return run[::-1]


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return f'"{text}"' if len(text) <= limit else f'"{text[:limit - 3]}..."'


def explicit_request(settings: EscalationSettings, session: Session) -> Finding | None:
    turn = _newest(session)
    if turn is None:
        return None
    if turn.result == "operator" or (turn.kind == "keys" and turn.text == OPERATOR_DIGIT):
        how = f"pressed {OPERATOR_DIGIT}" if turn.kind == "keys" else f"said {_quote(turn.text)}"
        return Finding(1.0, f"Asked for a person ({how}) at '{turn.node}'")
    if turn.kind == "speech" and asks_for_person(turn.text, OPERATOR_PHRASES):
        return Finding(1.0, f"Asked for a person: {_quote(turn.text)} at '{turn.node}'")
    return None


def _phrase_at(tokens: list[str], phrase: str) -> int | None:
    """Where the content words of ``phrase`` all occur close together, in any order
    ("stolen card" ~ "card was stolen"); each may carry a short suffix ("fraudulent")."""
    wanted = [w for w in words(phrase) if w not in _STOP] or words(phrase)
    span = len(wanted) + 3

    def hit(token: str, word: str) -> bool:
        return token == word or (len(word) >= 4 and token.startswith(word) and len(token) - len(word) <= 5)

    for start, token in enumerate(tokens):
        if not any(hit(token, w) for w in wanted):
            continue
        window = tokens[start:start + span]
        if all(any(hit(t, w) for t in window) for w in wanted):
            return start
    return None


def human_topic(settings: EscalationSettings, session: Session) -> Finding | None:
    turn = _newest(session)
    if turn is None or turn.kind != "speech":
        return None
    tokens = words(turn.text)
    for topic, phrases in settings.human_topics.items():
        for phrase in phrases:
            at = _phrase_at(tokens, phrase)
            if at is None or negated_before(tokens, at):
                continue
            if at > 0 and tokens[at - 1] in _THINGS:
                continue
            return Finding(1.0, f"Topic that needs a person ({topic}): {_quote(turn.text)}", topic)
    return None


def negative_sentiment(settings: EscalationSettings, session: Session) -> Finding | None:
    speech = _speech(session)
    newest = _newest(session)
    if not speech:
        return None
    cues: tuple[str, ...] = ()
    best, said = 0.0, ""
    for age, turn in enumerate(reversed(speech[-3:])):
        found = negativity(turn.text)
        level = found.level * (0.5 ** age)
        if age == 0 and turn is not newest:
            level *= 0.5  # the newest event was not speech; the mood is older
        if level > best:
            best, cues, said = level, found.cues, turn.text
    strength = min(1.0, max(0.0, (best - 0.2) / 0.35))
    if strength <= 0.0:
        return None
    why = ", ".join(cues) if cues else "negative wording"
    return Finding(strength, f"Sounds frustrated ({why}): {_quote(said)}")


def no_input(settings: EscalationSettings, session: Session) -> Finding | None:
    if _newest(session) is None:
        return None
    run = [t for t in _failure_run(session) if t.result == "silence"]
    if not run:
        return None
    strength = {1: 0.25, 2: 0.6}.get(len(run), 1.0)
    return Finding(strength, f"No answer {len(run)} time(s) in a row at '{run[-1].node}'")


def no_match(settings: EscalationSettings, session: Session) -> Finding | None:
    if _newest(session) is None:
        return None
    run = [t for t in _failure_run(session) if t.result in ("no_match", "invalid")]
    if not run:
        return None
    strength = {1: 0.4}.get(len(run), 1.0)
    return Finding(strength, f"Not understood {len(run)} time(s) in a row at '{run[-1].node}'")


def revisit(settings: EscalationSettings, session: Session) -> Finding | None:
    turn = _newest(session)
    if turn is None or not session.path:
        return None
    entries = sum(
        1 for i, node in enumerate(session.path)
        if node == turn.node and (i == 0 or session.path[i - 1] != node)
    )
    returns = entries - 1
    if returns < 1:
        return None
    strength = {1: 0.3, 2: 0.7}.get(returns, 1.0)
    return Finding(strength, f"Back at '{turn.node}' for the {_ordinal(entries)} time")


def repeated_intent(settings: EscalationSettings, session: Session) -> Finding | None:
    turn = _newest(session)
    if turn is None or turn.result != "matched" or not turn.intent or turn.intent in _ROUTINE_INTENTS:
        return None
    same = [t for t in session.turns if t.result == "matched" and t.intent == turn.intent]
    if len(same) < 2:
        return None
    if turn.kind != "silence" and any(_same_value(t, turn) for t in same[:-1]):
        return Finding(1.0, f"Gave the same {turn.intent} again ({_quote(turn.text)}): the first answer did not help")
    strength = {2: 0.35}.get(len(same), 0.7)
    return Finding(strength, f"Asked for '{turn.intent}' {len(same)} times")


def _same_value(a: Turn, b: Turn) -> bool:
    """Two turns gave the same value (digits compared as digits, words as words)."""
    da, db = re.sub(r"\D", "", a.text), re.sub(r"\D", "", b.text)
    if len(da) >= 3 and da == db:
        return True
    return words(a.text) == words(b.text) and len(words(a.text)) >= 3


def loudness(settings: EscalationSettings, session: Session) -> Finding | None:
    turn = _newest(session)
    if turn is None or turn.loudness_dbfs is None:
        return None
    earlier = [t.loudness_dbfs for t in session.turns[:-1] if t.loudness_dbfs is not None]
    if not earlier:
        return None
    baseline = median(earlier[:3])
    rise = turn.loudness_dbfs - baseline
    if rise < 5.0:
        return None
    strength = min(1.0, (rise - 3.0) / 8.0)
    return Finding(strength, f"Voice {rise:.0f} dB louder than earlier in the call")


_REQUEST_VERBS = frozenset({
    "change", "update", "check", "cancel", "return", "refund", "fix", "pay", "find", "close",
    "open", "block", "replace", "exchange", "add", "remove", "ask", "get", "set",
    "report", "dispute", "track", "book", "switch", "transfer", "move", "send",
})
_JOINERS = re.compile(r"\b(and also|and then|as well as|another thing|plus|and|also)\b")


def long_utterance(settings: EscalationSettings, session: Session) -> Finding | None:
    turn = _newest(session)
    if turn is None or turn.kind != "speech":
        return None
    count = len(words(turn.text))
    seconds = turn.duration or 0.0
    if count < 20 and seconds < 10.0:
        return None
    if turn.result == "matched":
        return Finding(0.5, f"Long explanation ({count} words) at '{turn.node}'")
    return Finding(1.0, f"Long explanation ({count} words) the menu could not place at '{turn.node}'")


def multi_intent(settings: EscalationSettings, session: Session) -> Finding | None:
    turn = _newest(session)
    if turn is None or turn.kind != "speech":
        return None
    parts = _JOINERS.split(turn.text.lower())
    asks = [p for p in parts if any(w in _REQUEST_VERBS for w in words(p))]
    if len(asks) < 2:
        return None
    if len(asks) >= 3:
        return Finding(1.0, f"{len(asks)} requests in one sentence: {_quote(turn.text)}")
    strength = 0.5 if turn.result == "matched" else 0.8
    return Finding(strength, f"Two requests in one sentence: {_quote(turn.text)}")


def low_confidence(settings: EscalationSettings, session: Session) -> Finding | None:
    turn = _newest(session)
    if turn is None or turn.kind != "speech" or turn.confidence >= 0.5:
        return None
    recent = [t for t in _speech(session)[-4:] if t.confidence < 0.5]
    if len(recent) < 2:
        return None
    strength = 0.6 if len(recent) == 2 else 1.0
    return Finding(strength, f"Hard to recognise: low confidence {len(recent)} times recently")


def time_in_ivr(settings: EscalationSettings, session: Session) -> Finding | None:
    if session.t <= settings.max_automated_seconds:
        return None
    minutes, seconds = divmod(int(session.t), 60)
    return Finding(1.0, f"In the automated menu for {minutes} min {seconds:02d} s")


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(n, f"{n}th")


# The registry, in the order of settings.SIGNALS (an agent reads them in this order).
CHECKS: dict[str, Check] = {
    "explicit_request": explicit_request,
    "human_topic": human_topic,
    "negative_sentiment": negative_sentiment,
    "no_input": no_input,
    "no_match": no_match,
    "revisit": revisit,
    "repeated_intent": repeated_intent,
    "loudness": loudness,
    "long_utterance": long_utterance,
    "multi_intent": multi_intent,
    "low_confidence": low_confidence,
    "time_in_ivr": time_in_ivr,
}
