"""Signals about what the caller *means*: a need only a person can meet, several
separate problems, pushing back on the line's answer, giving up, having been in touch
before, and a long story nothing on the menu fits.

Each reads the newest speech turn through ``ivr.understanding.meaning.read`` and says in
the caller's terms why it fired ("talks about a death in the family", "third call about
this"). Rules of this file:

* A need fires when its topic is one the flow sends to a person: the meaning kinds that
  share a name with the model's default topics (bereavement, fraud, legal, complaint,
  cancel) follow the flow's ``human_topics``; the others (safety, accessibility, hardship,
  third party, damaged goods, bulk orders) are always on. A flow's own extra topics are
  matched by their phrases, as before.
* Pushing back needs an answer to push back on: some earlier turn was understood.
* A long sentence counts only when neither the menu nor the reader could place it, and
  then only weakly: length is not a need.
"""
from __future__ import annotations

import re

from ivr.escalation.finding import Finding, newest, quote
from ivr.model.escalation import DEFAULT_TOPICS, EscalationSettings
from ivr.model.memory import repeat_text
from ivr.model.session import Session
from ivr.understanding.meaning import read
from ivr.understanding.person import negated_before, words
from ivr.understanding.reactions import ORDINALS

__all__ = ["human_topic", "multi_intent", "pushback", "giving_up", "repeat_contact", "long_utterance", "TOPIC_OF"]

# The flow topic each meaning kind belongs to (kinds not listed are their own topic).
TOPIC_OF = {"cancellation": "cancel"}
_STOP = frozenset({"my", "a", "an", "the", "this", "that", "your", "our", "of", "in", "on", "to", "for"})


def _said(session: Session):
    turn = newest(session)
    if turn is None or turn.kind != "speech" or not turn.text.strip():
        return None, None
    return turn, read(turn.text)


def human_topic(settings: EscalationSettings, session: Session) -> Finding | None:
    turn, meaning = _said(session)
    if turn is None or meaning is None:
        return None
    for need in meaning.needs:
        topic = TOPIC_OF.get(need.kind, need.kind)
        if topic in DEFAULT_TOPICS and topic not in settings.human_topics:
            continue  # the flow does not send this topic to a person
        return Finding(1.0, f'{need.says[0].upper()}{need.says[1:]} ("{need.cue}"): {quote(turn.text)}', topic)
    tokens = words(turn.text)
    for topic, phrases in settings.human_topics.items():
        if topic in DEFAULT_TOPICS:
            continue  # read by meaning above
        for phrase in phrases:
            at = _phrase_at(tokens, phrase)
            if at is not None and not negated_before(tokens, at):
                return Finding(1.0, f"Raises {topic}, which needs a person: {quote(turn.text)}", topic)
    return None


def _phrase_at(tokens: list[str], phrase: str) -> int | None:
    """Where the content words of ``phrase`` all occur close together, in any order."""
    wanted = [w for w in words(phrase) if w not in _STOP] or words(phrase)
    span = len(wanted) + 3

    def hit(token: str, word: str) -> bool:  # "fraudulent" ~ "fraud"
        return token == word or (len(word) >= 4 and token.startswith(word) and len(token) - len(word) <= 5)

    for start, token in enumerate(tokens):
        if not any(hit(token, w) for w in wanted):
            continue
        window = tokens[start:start + span]
        if all(any(hit(t, w) for t in window) for w in wanted):
            return start
    return None


def multi_intent(settings: EscalationSettings, session: Session) -> Finding | None:
    turn, meaning = _said(session)
    if turn is None or meaning is None or len(meaning.issues) < 2:
        return None
    named = [i for i in dict.fromkeys(meaning.issues) if i != "another matter"]
    listed = f" ({', '.join(named)})" if named else ""
    return Finding(1.0, f"Raises {len(meaning.issues)} separate problems{listed}: {quote(turn.text)}")


def pushback(settings: EscalationSettings, session: Session) -> Finding | None:
    turn, meaning = _said(session)
    if turn is None or meaning is None or not meaning.pushback:
        return None
    if not any(t.result == "matched" for t in session.turns[:-1]):
        return None
    return Finding(1.0, f'Says the line\'s answer is wrong ("{meaning.pushback}"): {quote(turn.text)}')


def giving_up(settings: EscalationSettings, session: Session) -> Finding | None:
    turn, meaning = _said(session)
    if turn is None or meaning is None or not meaning.giving_up:
        return None
    return Finding(1.0, f'Is giving up on the automated line ("{meaning.giving_up}"): {quote(turn.text)}')


def repeat_contact(settings: EscalationSettings, session: Session) -> Finding | None:
    turn, meaning = _said(session)
    if turn is None or meaning is None or not meaning.repeat_contact:
        return _remembered_repeat(session)
    cue = meaning.repeat_contact
    ordinal = next((o for o in ORDINALS if re.search(rf"\b{o}\b", cue)), "")
    how = f"{ordinal} call about one problem" if ordinal else f'"{cue}"'
    return Finding(1.0, f"Has been in touch before about this ({how}): {quote(turn.text)}")


def _remembered_repeat(session: Session) -> Finding | None:
    """The caller's memory (``Session.memory``, when the flow keeps one) says this call's
    topic came up in earlier calls within the flow's repeat window: a second call is a
    hint, a third a clear sign."""
    earlier = (session.memory.get("repeats") or {}).get(session.topic) if session.topic else None
    if not earlier or not earlier.get("count"):
        return None
    count = int(earlier["count"])
    said = repeat_text(session.topic, count, str(earlier.get("since", "")), session.started_at)
    return Finding(1.0 if count >= 2 else 0.5, f"{said[:1].upper()}{said[1:]} (the line remembers the earlier calls)")


def long_utterance(settings: EscalationSettings, session: Session) -> Finding | None:
    turn, meaning = _said(session)
    if turn is None or meaning is None:
        return None
    count = len(words(turn.text))
    if count < 20 and (turn.duration or 0.0) < 10.0:
        return None
    if turn.result == "matched" or meaning.request:
        return None  # a chatty caller with a request the line serves
    return Finding(0.5, f"Long explanation ({count} words) that fits nothing on the menu at '{turn.node}'")
