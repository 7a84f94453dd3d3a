"""Does the caller ask for a person? The operator escape by voice.

``asks_for_person(text, operator_phrases)`` is called on every utterance at every prompt,
so it is a handful of set look-ups over the words, no model and no regex backtracking.

Rules of this file:

* A *person word* is the last word of an operator phrase ("agent", "representative",
  "operator", "human", "person", "someone") or one of a few English synonyms
  ("somebody", "anybody", "rep", "supervisor", ...), and "service"/"care" right after
  "customer". Multi-word phrases ("a person") contribute their last word; determiners
  and adjectives are optional ("can I speak to a real person").
* A person word counts as a request in two shapes only:
  1. *bare*: the utterance is nothing but person words, polite fillers and
     determiners/adjectives ("agent", "representative please", "uh a real person").
  2. *framed*: a request verb stands at most a few words before it, with only
     determiners, adjectives and prepositions in between ("let me talk to someone",
     "can I speak to a real person", "I want a human", "put me through to an agent").
     "get"/"give"/"have"/"like"/... count only with a subject or "me" ("can I get",
     "get me"); "have" only as "can/could/may I have".
* Either shape is cancelled by a negation in the three words before it ("no need for an
  agent", "I'm not asking for a person", "I don't want a human"), and a person word
  followed by "number", "id", "code", ... is a thing, not a person ("my agent number").
* Past-tense and narrative uses ("the agent at the store told me", "I spoke to an agent")
  have no request verb in the present and so do not count.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

__all__ = ["asks_for_person", "words", "negated_before", "NEGATIONS"]

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

# Words that turn the following request around. "no" is one: "no agent" is a refusal.
NEGATIONS = frozenset({
    "not", "no", "never", "don't", "dont", "doesn't", "doesnt", "didn't", "didnt",
    "won't", "wont", "wouldn't", "wouldnt", "can't", "cant", "cannot", "isn't", "isnt",
    "aren't", "arent", "without", "nobody", "neither", "nor", "shouldn't", "needn't",
    "haven't", "havent", "ain't", "i'm not",
})

_EXTRA_PERSON_WORDS = frozenset({
    "somebody", "anybody", "anyone", "rep", "humans", "people", "associate", "advisor",
    "adviser", "agents", "representatives", "operators", "persons", "supervisor", "manager",
})

# "customer service", "customer care": a person word after "customer".
_TEAM = frozenset({"service", "care", "support", "services"})

# Words that may sit between a request verb and the person word, or around a bare one.
_LINK = frozenset({
    "a", "an", "the", "some", "to", "with", "for", "me", "through", "real", "live",
    "actual", "human", "proper", "person", "customer", "service", "support", "your", "of",
    "one", "on", "phone", "line", "just", "another", "over",
})
_FILLERS = frozenset({
    "please", "uh", "um", "umm", "er", "erm", "hmm", "yes", "yeah", "yep", "ok", "okay",
    "just", "now", "right", "oh", "well", "i", "said", "hello", "hi", "thanks", "thank",
    "you", "sir", "ma'am", "already", "again", "so", "like", "can", "could", "may",
    "get", "have", "give", "me",
})

# Request verbs, as single words or two-word frames (the word before the link words).
_REQUEST_WORDS = frozenset({
    "want", "need", "wanna", "talk", "speak", "connect", "transfer", "reach", "get",
    "give", "gimme", "put", "like", "prefer", "request", "asking", "ask", "have",
    "bring", "find", "there",
})
# A request verb that only counts after one of these words ("can i get", "i need").
_REQUEST_NEEDS_SUBJECT = frozenset({"get", "give", "have", "find", "there", "like", "ask", "asking"})
_SUBJECTS = frozenset({
    "i", "i'd", "i'm", "me", "can", "could", "may", "let", "please", "just", "you", "is",
    "would", "will", "to", "i'll", "gotta",
})

# A person word followed by one of these is a thing, not a person.
_THING_AFTER = frozenset({
    "number", "numbers", "id", "code", "codes", "name", "portal", "account", "login",
    "app", "website", "license", "licence", "fee", "fees", "program", "programme",
    "error", "mode", "question", "questions",
})


def words(text: str) -> list[str]:
    """The lower-case words of ``text`` (apostrophes kept: "don't", "i'm")."""
    return _WORD.findall(text.lower().replace("’", "'"))


def negated_before(tokens: Sequence[str], index: int, window: int = 3) -> bool:
    """True when one of the ``window`` words before ``tokens[index]`` negates it."""
    start = max(0, index - window)
    before = tokens[start:index]
    if any(t in NEGATIONS for t in before):
        return True
    return any(a == "i'm" and b == "not" for a, b in pairwise(before))


@lru_cache(maxsize=64)
def _person_words(operator_phrases: tuple[str, ...]) -> frozenset[str]:
    heads = {ws[-1] for ws in (words(p) for p in operator_phrases) if ws}
    return frozenset(heads | _EXTRA_PERSON_WORDS)


def asks_for_person(text: str, operator_phrases: Sequence[str]) -> bool:
    """True when the utterance asks to be put through to a person.

    ``operator_phrases`` are the flow's operator phrases (``agent``, ``representative``,
    ``a person``, ...); their last words are the person words. True for "agent",
    "representative please", "let me talk to someone", "can I speak to a real person";
    False for "no need for an agent", "my agent number is 4 4 2", "the agent at the store
    told me", "I'm not asking for a person". See the rules at the top of this file.
    """
    tokens = words(text)
    if not tokens:
        return False
    people = _person_words(tuple(operator_phrases))
    hits = [i for i, t in enumerate(tokens)
            if t in people or (t in _TEAM and i > 0 and tokens[i - 1] == "customer")]
    if not hits:
        return False
    if _is_bare(tokens, people):
        return not any(t in NEGATIONS for t in tokens)
    return any(_is_framed(tokens, i) for i in hits)


def _is_bare(tokens: list[str], people: frozenset[str]) -> bool:
    return all(t in people or t in _FILLERS or t in _LINK or t == "customer" for t in tokens) and len(tokens) <= 8


def _is_framed(tokens: list[str], i: int) -> bool:
    if i + 1 < len(tokens) and tokens[i + 1] in _THING_AFTER:
        return False
    j = i - 1
    while j >= 0 and tokens[j] in _LINK and i - j <= 5:
        j -= 1
    if j < 0 or tokens[j] not in _REQUEST_WORDS:
        return False
    verb = tokens[j]
    followed_by_me = tokens[j + 1] == "me"
    if verb in _REQUEST_NEEDS_SUBJECT and not followed_by_me and (j == 0 or tokens[j - 1] not in _SUBJECTS):
        return False
    if verb == "have" and tokens[max(0, j - 2):j] not in (["can", "i"], ["could", "i"], ["may", "i"]):
        return False  # "can I have a person", not "I have a person here"
    return not negated_before(tokens, j)
