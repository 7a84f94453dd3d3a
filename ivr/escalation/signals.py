"""The signals that say a caller needs a person, one function each, in one registry.

Every check has the same shape: ``check(settings, session) -> Finding | None`` (see
``finding.py``). It looks at the session as it is after the newest caller event
(``session.turns[-1]``) and returns how strongly the signal is present and a sentence an
agent can read, or None. ``score.assess`` multiplies the strength by the signal's
weight. Checks are pure: no I/O, no clock, no randomness. The checks on what the caller
*means* (needs, several problems, pushing back, giving up, repeat contact, long stories)
live in ``meant.py``; this file holds the checks on how the call is going and the
registry.

Rules of this file:

* Signals about *what was said* read only the newest turn (sentiment also remembers the
  two speech turns before it, fading), so a request the caller already withdrew, or an
  offer they declined, does not fire again on every later event.
* Signals about *how the call is going* (failures, revisits, repeats, confidence,
  loudness, time) read the history.
* Silence, misunderstanding and a rejected read-back at one prompt are one run of
  failures: ``no_input`` fires for a run of silences only, ``no_match`` for a run with
  anything else in it, counted together (a silence weighs less than a misunderstanding).
* Sentiment counts only when it is aimed at the service or the call (``sentiment.py``):
  not the weather, not the caller's own clumsiness, not a sad week.
* Repeating an intent is weak evidence; giving the *same value* again (the same order
  number after it was looked up) says the first answer did not help, and is strong,
  unless the line itself asked again (right after a PIN or passcode, or after a lookup
  that failed).
"""
from __future__ import annotations

import re
from statistics import median

from ivr.escalation.finding import Check, Finding, newest, quote, speech
from ivr.escalation.meant import giving_up, human_topic, long_utterance, multi_intent, pushback, repeat_contact
from ivr.escalation.sentiment import aimed_negativity
from ivr.model.context import MASK
from ivr.model.escalation import SIGNALS, EscalationSettings
from ivr.model.session import Session, Turn
from ivr.understanding.person import asks_for_person, words

__all__ = ["Finding", "Check", "CHECKS", "DEFAULT_WEIGHTS", "ALL_SIGNALS", "OPERATOR_PHRASES", "OPERATOR_DIGIT"]

# The operator escape (the flow's ``operator:`` block) as the demo flow defines it.
OPERATOR_PHRASES: tuple[str, ...] = ("agent", "representative", "operator", "human", "a person", "someone")
OPERATOR_DIGIT = "0"

# The signals read from what a sentence means (a flow may weigh them like any other).
MEANING_SIGNALS: tuple[str, ...] = ("pushback", "giving_up", "repeat_contact")
ALL_SIGNALS: tuple[str, ...] = SIGNALS

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
    "pushback": 0.8,
    "giving_up": 0.8,
    "repeat_contact": 0.8,
}

FAILURES = ("no_match", "invalid", "silence")
REJECTED = "rejected on read-back"
# Intents that repeat in any healthy call ("anything else?" -> "yes").
_ROUTINE_INTENTS = frozenset({"yes", "no", "confirm", "deny", "more", "done", "goodbye", "repeat"})


def _failed(turn: Turn) -> bool:
    return turn.result in FAILURES or turn.intent.endswith(REJECTED)


def _failure_run(session: Session) -> list[Turn]:
    """The newest turns at the newest turn's node that all failed (silence, not
    understood, invalid, or a read-back the caller rejected), newest last."""
    last = newest(session)
    run: list[Turn] = []
    if last is None:
        return run
    for turn in reversed(session.turns):
        if turn.node != last.node or not _failed(turn):
            break
        run.append(turn)
    return run[::-1]


def explicit_request(settings: EscalationSettings, session: Session) -> Finding | None:
    turn = newest(session)
    if turn is None:
        return None
    if turn.result == "operator" or (turn.kind == "keys" and turn.text == OPERATOR_DIGIT):
        how = f"pressed {OPERATOR_DIGIT}" if turn.kind == "keys" else f"said {quote(turn.text)}"
        return Finding(1.0, f"Asked for a person ({how}) at '{turn.node}'")
    if turn.kind == "speech" and asks_for_person(turn.text, OPERATOR_PHRASES):
        return Finding(1.0, f"Asked for a person: {quote(turn.text)} at '{turn.node}'")
    return None


def negative_sentiment(settings: EscalationSettings, session: Session) -> Finding | None:
    said = speech(session)
    last = newest(session)
    if not said:
        return None
    cues: tuple[str, ...] = ()
    best, words_said = 0.0, ""
    for age, turn in enumerate(reversed(said[-3:])):
        found = aimed_negativity(turn.text)
        level = found.level * (0.5 ** age)
        if age == 0 and turn is not last:
            level *= 0.5  # the newest event was not speech; the mood is older
        if level > best:
            best, cues, words_said = level, found.cues, turn.text
    strength = min(1.0, max(0.0, (best - 0.2) / 0.35))
    if strength <= 0.0:
        return None
    why = ", ".join(cues) if cues else "negative wording"
    return Finding(strength, f"Sounds frustrated with the service ({why}): {quote(words_said)}")


def no_input(settings: EscalationSettings, session: Session) -> Finding | None:
    run = _failure_run(session)
    if not run or any(t.result != "silence" for t in run):
        return None  # a mixed run is counted, together, by no_match
    strength = {1: 0.25, 2: 0.6}.get(len(run), 1.0)
    return Finding(strength, f"No answer {len(run)} time(s) in a row at '{run[-1].node}'")


def no_match(settings: EscalationSettings, session: Session) -> Finding | None:
    run = _failure_run(session)
    if not run or all(t.result == "silence" for t in run):
        return None
    silent = sum(1 for t in run if t.result == "silence")
    rejected = sum(1 for t in run if t.intent.endswith(REJECTED))
    missed = len(run) - silent - rejected
    points = silent * 1.0 + (missed + rejected) * 1.5
    strength = 0.4 if points <= 1.5 else 0.7 if points < 3.0 else 1.0
    counts = ((missed, "not understood"), (silent, "no answer"), (rejected, "read-back rejected"))
    parts = [f"{n} {what}" for n, what in counts if n]
    if missed == len(run):
        return Finding(strength, f"Not understood {missed} time(s) in a row at '{run[-1].node}'")
    return Finding(strength, f"Stuck at '{run[-1].node}': {len(run)} failed tries in a row ({', '.join(parts)})")


def revisit(settings: EscalationSettings, session: Session) -> Finding | None:
    turn = newest(session)
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
    turn = newest(session)
    if turn is None or turn.result != "matched" or not turn.intent or turn.intent in _ROUTINE_INTENTS:
        return None
    same = [t for t in session.turns if t.result == "matched" and t.intent == turn.intent]
    if len(same) < 2:
        return None
    if turn.kind != "silence" and any(_same_value(t, turn) for t in same[:-1]) and not _line_asked_again(session):
        return Finding(1.0, f"Gave the same {turn.intent} again ({quote(turn.text)}): the first answer did not help")
    strength = {2: 0.35}.get(len(same), 0.7)
    return Finding(strength, f"Asked for '{turn.intent}' {len(same)} times")


def _line_asked_again(session: Session) -> bool:
    """The line itself asked for the value again: right after a PIN or passcode (masked),
    or after a failed lookup, re-entering a value is doing as told, not a complaint."""
    before = session.turns[-2] if len(session.turns) >= 2 else None
    if before is not None and (before.text == MASK or set(before.text) == {"*"} or _failed(before)):
        return True
    return bool(session.lookups) and session.lookups[-1].get("outcome") != "found"


def _same_value(a: Turn, b: Turn) -> bool:
    """Two turns gave the same value (digits compared as digits, words as words)."""
    da, db = re.sub(r"\D", "", a.text), re.sub(r"\D", "", b.text)
    if len(da) >= 3 and da == db:
        return True
    return words(a.text) == words(b.text) and len(words(a.text)) >= 3


def loudness(settings: EscalationSettings, session: Session) -> Finding | None:
    turn = newest(session)
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


def low_confidence(settings: EscalationSettings, session: Session) -> Finding | None:
    turn = newest(session)
    if turn is None or turn.kind != "speech" or turn.confidence >= 0.5:
        return None
    recent = [t for t in speech(session)[-4:] if t.confidence < 0.5]
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


# The registry, in the order of ALL_SIGNALS (an agent reads them in this order).
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
    "pushback": pushback,
    "giving_up": giving_up,
    "repeat_contact": repeat_contact,
}
