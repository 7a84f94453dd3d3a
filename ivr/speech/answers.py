"""What a finished utterance amounts to: an answer to the prompt, a request for a person,
or something we did not understand.

A Vosk grammar cannot say "none of these": it is a loop over the prompt's words, so
"환불하고 싶어요" (I want a refund) said at a yes/no question comes out as "상담원 네
아니요" with high word confidences. ``judge`` keeps a forced guess from becoming an
answer or a transfer:

1. Out-of-grammar words (the model's unknown word, ``[unk]`` or ``<UNK>``) are dropped;
   an utterance of unknown words only is ``NotAnAnswer`` (never silence).
2. An operator phrase that ends the utterance, heard with confidence at or above the
   floor, is ``PersonWanted`` ("음 그러니까 ... 상담원"). Anywhere else it is not enough:
   a caller who wants a person ends with it.
3. Any grammar word under the confidence floor makes the utterance ``NotAnAnswer``:
   dropping it would change the answer ("이 삼 오" without 삼 is another number).
4. Each Korean word must take a time a syllable can take (``SYLLABLE_SECONDS``).
5. The words must read as the prompt's phrases, whole: one phrase at a menu or yes/no
   prompt ("주문 상태", not "주문 시간" nor "상담원 네 아니요"), any number of digits at a
   digits prompt. Otherwise ``NotAnAnswer``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .recognizer import UNKNOWN_WORDS, Word

__all__ = [
    "Answer",
    "PersonWanted",
    "NotAnAnswer",
    "Judgement",
    "judge",
    "CONFIDENCE_FLOOR",
    "SYLLABLE_SECONDS",
]

#: Vosk word confidences (0..1) under this are not trusted. Measured on the Korean
#: fixtures: in-grammar words are mostly 1.0, a few 0.55-0.7 ("예", the 공 of "오 공 이");
#: words forced onto out-of-grammar speech spread from 0.2 to 1.0.
CONFIDENCE_FLOOR = 0.5
#: Shortest and longest time a spoken Korean syllable takes. Words forced onto
#: out-of-grammar speech are often fragments of 2-3 frames (60-90 ms) or stretched over
#: several syllables (0.6-1 s for "영"); said digits took 0.12-0.52 s on the fixtures.
SYLLABLE_SECONDS = (0.1, 0.6)


@dataclass(frozen=True)
class Answer:
    """The caller gave one of the prompt's answers (``text``: grammar words only)."""

    text: str


@dataclass(frozen=True)
class PersonWanted:
    """The caller asked for a person; ``text`` is the operator phrase."""

    text: str


@dataclass(frozen=True)
class NotAnAnswer:
    """Words were spoken but they are none of the prompt's answers; ``why`` says how."""

    why: str
    heard: str = ""


Judgement = Answer | PersonWanted | NotAnAnswer


def judge(
    words: Sequence[Word],
    phrases: Sequence[str],
    operator_phrases: Sequence[str],
    *,
    digits: bool = False,
    floor: float = CONFIDENCE_FLOOR,
) -> Judgement:
    """Judge one finished utterance's words against the prompt's phrases.

    ``digits``: the prompt asks for a string of digits (any number of its phrases in a
    row); otherwise exactly one phrase is an answer.
    """
    known = [w for w in words if w.text not in UNKNOWN_WORDS]
    heard = " ".join(w.text for w in known)
    if not known:
        return NotAnAnswer("only words outside the prompt's phrases")
    operator = _ending_phrase([w.text for w in known], operator_phrases)
    if operator is not None:
        tail = known[len(known) - len(operator.split()) :]
        if min(w.confidence for w in tail) >= floor:
            return PersonWanted(operator)
    if min(w.confidence for w in known) < floor:
        return NotAnAnswer("a word heard with low confidence", heard)
    if any(not _spoken_length(w) for w in known):
        return NotAnAnswer("a word too short or too drawn out to have been said", heard)
    answers = [p for p in phrases if p not in operator_phrases]
    parts = _split_into(heard.split(), answers)
    if parts is None:
        return NotAnAnswer("words that are not whole phrases of the prompt", heard)
    if not digits and len(parts) != 1:
        return NotAnAnswer("more than one of the prompt's phrases", heard)
    return Answer(heard)


def _spoken_length(word: Word) -> bool:
    """Could a caller have said ``word`` in the time Vosk gives it? Korean words only
    (one Hangul block is one syllable); other words pass."""
    syllables = sum("\uac00" <= ch <= "\ud7a3" for ch in word.text)
    if not syllables:
        return True
    per_syllable = (word.end - word.start) / syllables
    return SYLLABLE_SECONDS[0] <= per_syllable <= SYLLABLE_SECONDS[1]


def _ending_phrase(words: list[str], phrases: Sequence[str]) -> str | None:
    for phrase in sorted(phrases, key=lambda p: -len(p.split())):
        tail = phrase.split()
        if tail and words[-len(tail) :] == tail:
            return phrase
    return None


def _split_into(words: list[str], phrases: Sequence[str]) -> list[str] | None:
    """``words`` as a sequence of whole ``phrases`` (fewest parts), or None."""
    best: list[list[str] | None] = [[]] + [None] * len(words)
    for i in range(len(words)):
        done = best[i]
        if done is None:
            continue
        for phrase in phrases:
            size = len(phrase.split())
            if size and words[i : i + size] == phrase.split():
                known = best[i + size]
                if known is None or len(known) > len(done) + 1:
                    best[i + size] = done + [phrase]
    return best[len(words)]
