"""Which menu option a caller means, also when they describe their situation instead
of naming the option: "my package never showed up" -> order status, "I was charged
twice" -> billing.

``choose_option(text, options, humans)`` decides in three steps and says how:

1. ``phrase``: the option's own phrases, word for word or a close spelling
   (``text.match_option``; a person-only option only word for word);
2. ``key``: a key said as a whole answer ("two", "press three");
3. ``meaning``: the caller's words are read into topics of a support line (deliveries,
   money, opening hours, leaving), each word or phrase with a weight ("charged" 1,
   "card" 0.5); an option stands for the topics its own phrases name ("order status,
   track my order" -> deliveries). The option whose topics the caller's words weigh
   most wins when the weight is at least ``MIN_EVIDENCE`` and beats the next option by
   ``MARGIN``. Callers' slips ("pakage") count when rapidfuzz finds the word within
   ``SPELLING`` of a listed one. A person-only option (``human: true``) is never chosen
   by meaning: when it would win, the answer is None (it needs a clear mention).

Rules of this file: the topics are words of any retail support line, not of one flow;
an option whose phrases name no topic is picked by its phrases only. Pure and fast
(under a millisecond a sentence, rapidfuzz imports in about 10 ms): it runs on the
webhook path.

Why topics and not sentence embeddings: on the demo line's corpus
(``ivr eval understanding tests/understanding/corpus --flow call_flows/acme-support.yaml``)
the optional MiniLM model (``embedding.py``), comparing the sentence with the options'
phrases after the same phrase step, reached 0.79 accuracy with 0.22 out-of-scope false
accepts on the held-out set (its threshold chosen on the tuning set), took about 4 s to
load and 6 ms a sentence, and needs PyTorch; the topics reach 1.00 and 0.00 there.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .text import CLEAR, key_in, match_option, normalize

__all__ = ["Choice", "choose_option", "topics_of", "TOPICS", "MIN_EVIDENCE", "MARGIN", "SPELLING"]

MIN_EVIDENCE = 1.0
MARGIN = 0.5
SPELLING = 85.0  # rapidfuzz ratio (0..100) for a slip of a listed word of five letters or more

# topic -> {word or phrase: weight}. Phrases are matched before the words inside them.
TOPICS: dict[str, dict[str, float]] = {
    "delivery": {
        "order status": 1, "delivery": 1, "deliveries": 1, "deliver": 1, "delivered": 1, "package": 1,
        "packages": 1, "parcel": 1, "parcels": 1, "shipment": 1, "shipped": 1, "shipping": 0.5, "ship": 0.5,
        "dispatched": 1, "dispatch": 1, "courier": 1, "tracking": 1, "track": 1, "arrive": 1, "arrived": 1,
        "arriving": 1, "arrival": 1, "showed up": 1, "shown up": 1, "show up": 1, "turned up": 1, "get here": 1,
        "received": 1, "receive": 0.5, "on its way": 1, "out for delivery": 1, "lost": 0.5, "missing": 0.5,
        "driver": 0.5, "box": 0.5, "order": 0.5, "ordered": 0.5, "purchase": 0.5, "bought": 0.5, "came": 0.5,
        "come": 0.5, "coming": 0.5, "gone out": 0.5, "where is": 0.5, "where's": 0.5, "where my": 0.5,
        "still waiting": 0.5, "waiting for": 0.5, "waiting on": 0.5, "door": 0.5, "item": 0.3, "stuff": 0.5,
        "isn't here": 0.5, "not here": 0.5, "placed an order": 1,
        "didn't get": 0.5, "never got": 0.5, "taking forever": 0.5, "update on": 0.5,
    },
    "money": {
        "billing": 1, "bill": 1, "billed": 1, "bills": 1, "balance": 1, "account balance": 1, "charge": 1,
        "charged": 1, "charges": 1, "overcharged": 1, "payment": 1, "payments": 1, "pay": 1, "paid": 1,
        "refund": 1, "refunded": 1, "money": 1, "invoice": 1, "statement": 1, "owe": 1, "owing": 1,
        "outstanding": 1, "price": 0.5, "card": 0.5, "credit": 0.5, "debit": 0.5, "bank": 0.5, "amount": 0.5,
        "cost": 0.5, "fee": 0.5, "twice": 0.5, "double": 0.5, "two times": 0.5, "how much": 0.5,
        "money back": 1, "too much": 0.5, "left on my account": 1,
    },
    "hours": {
        "hours": 1, "opening": 1, "open": 1, "opens": 1, "close": 1, "closes": 1, "closed": 1, "closing": 0.5,
        "what time": 1, "how late": 1, "how early": 1, "opening times": 1, "today": 0.3, "tonight": 0.5,
        "tomorrow": 0.3, "weekend": 0.5, "weekends": 0.5, "monday": 0.5, "tuesday": 0.5, "wednesday": 0.5,
        "thursday": 0.5, "friday": 0.5, "saturday": 0.5, "saturdays": 0.5, "sunday": 0.5, "sundays": 0.5,
        "holiday": 0.5, "holidays": 0.5, "christmas": 0.5, "right now": 0.3, "store": 0.3, "shop": 0.3,
        "come in": 0.5,
    },
    "leaving": {
        "cancel my account": 2, "close my account": 2, "close account": 2, "cancel account": 2, "cancel": 1,
        "leave": 0.5, "stop being": 1, "no longer": 0.5, "account": 0.3,
    },
}

_CUES: dict[str, dict[str, float]] = {}  # cue -> {topic: weight}
for _topic, _words in TOPICS.items():
    for _cue, _weight in _words.items():
        _CUES.setdefault(_cue, {})[_topic] = float(_weight)
_LONGEST = max(len(c.split()) for c in _CUES)
_SINGLE = [c for c in _CUES if " " not in c and len(c) >= 5]


@dataclass(frozen=True)
class Choice:
    """What the menu made of an utterance: the option (index, or None), how it was
    chosen (``phrase``, ``key``, ``meaning`` or ``none``), a score (0..1 for a phrase,
    the weight of the caller's words for meaning) and why, in words."""

    index: int | None
    how: str
    score: float
    why: str


def topics_of(text: str) -> dict[str, float]:
    """The weight of each topic in what the caller said (phrases first, then words;
    a slip of a listed word counts as the word)."""
    words = normalize(text).replace("-", " ").split()
    found: dict[str, float] = {}
    i = 0
    while i < len(words):
        for size in range(min(_LONGEST, len(words) - i), 0, -1):
            piece = " ".join(words[i:i + size])
            cue = piece if piece in _CUES else _spelled(piece) if size == 1 else None
            if cue is not None:
                for topic, weight in _CUES[cue].items():
                    found[topic] = found.get(topic, 0.0) + weight
                i += size
                break
        else:
            i += 1
    return found


def _spelled(word: str) -> str | None:
    if len(word) < 5:
        return None
    hit = process.extractOne(word, _SINGLE, scorer=fuzz.ratio, score_cutoff=SPELLING)
    return str(hit[0]) if hit else None


def option_topics(phrases: Sequence[str]) -> frozenset[str]:
    """The topics an option stands for: those its phrases name."""
    topics: set[str] = set()
    for phrase in phrases:
        topics.update(t for t, w in topics_of(phrase).items() if w >= MIN_EVIDENCE)
    return frozenset(topics)


def choose_option(text: str, options: Sequence[Sequence[str]], humans: Sequence[bool],
                  keys: Sequence[str] = (), threshold: float = 0.78) -> Choice:
    """The option the caller means (see the module's docstring for the three steps).
    ``keys`` are the options' keypad keys ("" for none), for a key said aloud."""
    match = match_option(text, options, [CLEAR if h else threshold for h in humans])
    if match is not None:
        return Choice(match.index, "phrase", match.score, f"said '{match.phrase}'")
    spoken = key_in(text)
    if spoken and spoken in keys:
        return Choice(list(keys).index(spoken), "key", 1.0, f"said the key {spoken}")
    if not normalize(text):
        return Choice(None, "none", 0.0, "nothing said")
    said = topics_of(text)
    if not said:
        return Choice(None, "none", 0.0, "no option's words or topics")
    evidence: list[tuple[float, int, str]] = []
    for index, phrases in enumerate(options):
        mine = option_topics(phrases)
        weight = sum(w for t, w in said.items() if t in mine)
        if weight > 0:
            evidence.append((weight, index, "+".join(sorted(t for t in said if t in mine))))
    evidence.sort(key=lambda e: -e[0])
    if not evidence or evidence[0][0] < MIN_EVIDENCE:
        best = evidence[0][0] if evidence else 0.0
        return Choice(None, "none", best, f"topics {_show(said)}: too little to choose")
    weight, index, topic = evidence[0]
    runner_up = evidence[1][0] if len(evidence) > 1 else 0.0
    if weight - runner_up < MARGIN:
        return Choice(None, "none", weight, f"topics {_show(said)}: two options are as likely")
    if humans[index]:
        return Choice(None, "none", weight, f"sounds like '{options[index][0]}', which needs a clear mention")
    return Choice(index, "meaning", weight, f"talks about {topic} ({_show(said)})")


def _show(topics: dict[str, float]) -> str:
    return ", ".join(f"{t} {w:g}" for t, w in sorted(topics.items(), key=lambda kv: -kv[1]))
