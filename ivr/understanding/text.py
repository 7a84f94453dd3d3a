"""Making sense of what a caller said: phrases, digits, yes/no, numbers, dates.

Transcripts come from a recogniser (Vosk or Twilio's), so they are lower-case or not,
with or without punctuation, with filler words ("um", "please", "I'd like to") and small
slips ("order statis"). Everything here is pure and fast: it runs on every utterance.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from . import dates

_PUNCT = re.compile(r"[^\w\s']+", re.UNICODE)
_SPACES = re.compile(r"\s+")
FILLERS = frozenset(
    ["um", "uh", "erm", "er", "ah", "hmm", "mm", "like", "please", "pls", "yeah", "okay", "ok", "so", "well", "just", "uhm", "oh", "hi", "hello", "hey"]
)
_LEAD_INS = (
    "i want to", "i would like to", "i'd like to", "i need to", "can i", "could i", "can you",
    "could you", "i want", "i need", "i'd like", "i would like", "let me", "i'm calling about",
    "i am calling about", "calling about", "it's about", "it is about", "check", "about",
)

_UNITS = {
    "zero": 0, "oh": 0, "o": 0, "one": 1, "two": 2, "to": 2, "too": 2, "three": 3, "four": 4, "for": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "ate": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19,
}
# Sino-Korean digits, as callers read out numbers digit by digit.
_UNITS.update({"영": 0, "공": 0, "일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "칠": 7, "팔": 8, "구": 9})
DIGIT_WORDS = {
    "en": ("zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "ko": ("영", "공", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"),
}
YES_NO_WORDS = {"en": ("yes", "no"), "ko": ("예", "네", "아니요")}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_DIGIT_WORDS = {k: v for k, v in _UNITS.items() if v < 10}
_REPEATS = {"double": 2, "triple": 3}

YES = frozenset(["yes", "yeah", "yep", "yup", "correct", "right", "sure", "affirmative", "exactly", "true", "예", "네", "맞아요"]) | {"that's right", "that is right", "it is", "yes please", "that's correct", "uh huh"}
NO = frozenset(["no", "nope", "nah", "wrong", "incorrect", "negative", "아니요", "아니오", "아니"]) | {"that's wrong", "not right", "that's not right", "no it isn't", "it isn't"}


def normalize(text: str) -> str:
    """Lower-case, punctuation gone, fillers dropped, spaces single."""
    words = _SPACES.sub(" ", _PUNCT.sub(" ", text.lower())).split()
    return " ".join(w for w in words if w not in FILLERS)


def _strip_lead_ins(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for lead in _LEAD_INS:
            if text.startswith(lead + " "):
                text = text[len(lead) + 1:]
                changed = True
    return text


@dataclass(frozen=True)
class PhraseMatch:
    index: int  # which choice matched
    phrase: str  # the phrase of that choice that matched best
    score: float  # 0..1


def match_phrase(text: str, choices: Sequence[Sequence[str]], threshold: float = 0.78) -> PhraseMatch | None:
    """The choice (a list of phrases) that ``text`` names, or None.

    The utterance is matched as a whole. A phrase matches when it appears in the
    utterance word for word (or a plain inflection: "ordered") and is not negated ("I don't want to cancel my account",
    "never mind the order"), or when the whole utterance (without lead-ins such as "I'd
    like to") is close to it letter by letter (small ASR slips: "order statis"); a word
    that merely resembles a phrase inside a longer sentence ("I ordered two lamps") does
    not match. When several choices are named, a yes/no word gives way to a real choice
    ("yes, my balance"), and the choice named in the last clause wins ("I called about my
    bill yesterday, today it's my order"); two choices named together are ambiguous: None.
    A choice that only a person can serve should ask for a clear match: pass a higher
    ``threshold`` for it (see ``match_option``).
    """
    return match_option(text, choices, [threshold] * len(choices))


def match_option(text: str, choices: Sequence[Sequence[str]], thresholds: Sequence[float]) -> PhraseMatch | None:
    """``match_phrase`` with a threshold per choice. A threshold of ``CLEAR`` (0.95) or
    more means word for word only: give it to a person-only option (``human: true``), so
    that only a clear, un-negated mention picks it, never a near miss."""
    said = normalize(text)
    if not said:
        return None
    core = _strip_lead_ins(said)
    tokens = said.split()
    clauses = _clause_of(text)
    last_clause = max(clauses.values(), default=0)
    best: list[tuple[PhraseMatch, int, bool]] = []  # match, clause of the hit, is a yes/no word
    for index, phrases in enumerate(choices):
        top, top_phrase, top_clause = 0.0, "", -1
        for phrase in phrases:
            p = normalize(phrase)
            if not p:
                continue
            at = _word_hit(tokens, p.split())
            if at is not None:
                score = 1.0 - 0.001 * max(len(said) - len(p), 0) / 10  # the tighter, the better
                clause = clauses.get(at, 0)
                if p in _ANSWER_WORDS and len(tokens) > 4 and clause < last_clause:
                    continue  # "no, that's not right, it says ...": the no is not the answer
            elif thresholds[index] < CLEAR and len(core.split()) <= len(p.split()) + 2:
                score, clause = max(_ratio(core, p), _window_ratio(core, p)), 0
            else:
                continue
            if score > top:
                top, top_phrase, top_clause = score, phrase, clause
        if top >= min(thresholds[index], CLEAR):
            best.append((PhraseMatch(index, top_phrase, top), top_clause, normalize(top_phrase) in _ANSWER_WORDS))
    if not best:
        return None
    if len(best) > 1 and not all(b[2] for b in best):
        best = [b for b in best if not b[2]] or best  # "yes, my balance": the balance
    if len(best) > 1:
        last = max(b[1] for b in best)
        best = [b for b in best if b[1] == last]
    best.sort(key=lambda b: -b[0].score)
    if len(best) > 1 and best[0][0].score - best[1][0].score < 0.02:
        return None
    return best[0][0]


CLEAR = 0.95
_ANSWER_WORDS = frozenset({"yes", "yeah", "yep", "sure", "no", "nope", "ok", "okay", "thanks", "thank you"})
_NEGATING = frozenset({"not", "no", "never", "don't", "dont", "doesn't", "didn't", "won't", "isn't", "aren't", "without", "nothing"})
_CLAUSE_WORDS = frozenset({"but", "then", "now", "today", "actually"})


def _word_hit(tokens: list[str], phrase: list[str]) -> int | None:
    """Where ``phrase`` occurs word for word in ``tokens`` without a negation in the
    three words before it, or None."""
    n = len(phrase)
    for i in range(len(tokens) - n + 1):
        if all(_same_word(t, w) for t, w in zip(tokens[i:i + n], phrase)) and not (set(tokens[max(0, i - 3):i]) & _NEGATING):
            return i
    return None


def _same_word(token: str, word: str) -> bool:
    """The word itself or a plain inflection of it ("ordered", "orders", "order's")."""
    return token == word or (len(word) >= 4 and token[len(word):] in ("s", "es", "ed", "d", "ing", "'s") and token.startswith(word))


def _clause_of(text: str) -> dict[int, int]:
    """Word position (in ``normalize(text)``) -> which clause of the utterance it is in.
    Clauses break at punctuation and at "but", "then", "now", "today", "actually"."""
    out: dict[int, int] = {}
    position = clause = 0
    for piece in re.findall(r"[\w']+|[,;.!?]", text.lower()):
        if piece in ",;.!?" or piece in _CLAUSE_WORDS:
            clause += 1
            if piece in ",;.!?":
                continue
        if piece in FILLERS:
            continue
        out[position] = clause
        position += 1
    return out


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _window_ratio(said: str, phrase: str) -> float:
    """Best ratio of ``phrase`` against any run of as many words in ``said`` (+-1)."""
    words = said.split()
    n = len(phrase.split())
    best = 0.0
    for size in {max(n - 1, 1), n, n + 1}:
        for i in range(0, max(len(words) - size + 1, 0)):
            best = max(best, _ratio(" ".join(words[i:i + size]), phrase))
    return best


def digits_in(text: str) -> str:
    """Digits said or typed: "one two three" -> "123", "double five" -> "55",
    "4 5 6" -> "456", "twenty one" -> "21". Non-number words are skipped, but number
    words scattered one by one through a sentence are not digits: "I ordered two lamps
    and one arrived broken" -> "" (a menu must not read a key press into it)."""
    # not ``normalize``: it drops "oh" as a filler, and "oh" is a zero here ("oh one two")
    words = _SPACES.sub(" ", _PUNCT.sub(" ", text.lower().replace("-", " "))).split()
    if _lone_number_words(words):
        return ""  # "I ordered two lamps and one broke" names no digits
    out: list[str] = []
    repeat = 1
    i = 0
    while i < len(words):
        w = words[i]
        if w.isdigit():
            out.append(w * repeat)
            repeat = 1
        elif w in _REPEATS:
            repeat = _REPEATS[w]
        elif w in _TENS:
            value = _TENS[w]
            if i + 1 < len(words) and words[i + 1] in _DIGIT_WORDS and _DIGIT_WORDS[words[i + 1]] > 0:
                value += _DIGIT_WORDS[words[i + 1]]
                i += 1
            out.append(str(value) * repeat)
            repeat = 1
        elif w in ("hundred",) and out:
            out[-1] = out[-1] + "00"
        elif w in _UNITS and (w not in ("to", "too", "for", "ate", "o", "oh") or _near_digits(words, i)):
            out.append(str(_UNITS[w]) * repeat)
            repeat = 1
        i += 1
    return "".join(out)


def _lone_number_words(words: list[str]) -> bool:
    """True for a sentence (three or more other words) whose number words all stand
    alone: one number word at a time, never a run of two or more, and no numerals."""
    runs, run, others = [], 0, 0
    for w in words:
        if w.isdigit():
            return False
        if (w in _DIGIT_WORDS and w not in ("to", "too", "for", "ate", "o", "oh")) or w in _TENS or w in _REPEATS:
            run += 1
            continue
        if run:
            runs.append(run)
            run = 0
        if w not in FILLERS:
            others += 1
    if run:
        runs.append(run)
    return bool(runs) and max(runs) == 1 and others >= 3


def key_in(text: str) -> str:
    """The key a caller *said* at a menu, as a whole utterance: "one", "two please",
    "press three", "option 2", "number four" -> the digit; "" for anything else (a
    number word inside a sentence is never a key press)."""
    words = [w for w in normalize(text).split() if w not in _KEY_FRAME]
    if len(words) != 1:
        return ""
    w = words[0]
    if len(w) == 1 and w.isdigit():
        return w
    value = _DIGIT_WORDS.get(w)
    return str(value) if value is not None and w not in ("to", "too", "for", "ate", "o", "oh") else ""


_KEY_FRAME = frozenset({"press", "pressing", "option", "number", "key", "button", "i'll", "i", "choose", "pick", "take", "want", "the"})


def _near_digits(words: list[str], i: int) -> bool:
    """Homophones ("to", "for", "oh") count as digits only between other digits."""
    def is_digit(j: int) -> bool:
        return 0 <= j < len(words) and (words[j].isdigit() or (words[j] in _UNITS and words[j] not in ("to", "too", "for", "ate", "o", "oh")))
    return is_digit(i - 1) or is_digit(i + 1)


def number_in(text: str) -> int | None:
    """A quantity: "forty two" -> 42, "1,200" -> 1200, "three hundred" -> 300."""
    cleaned = normalize(text.replace(",", ""))
    plain = re.search(r"\b\d+\b", cleaned)
    if plain:
        return int(plain.group())
    total = current = 0
    seen = False
    for w in cleaned.replace("-", " ").split():
        if w in _UNITS and w not in ("to", "too", "for", "ate", "o", "oh"):
            current += _UNITS[w]
            seen = True
        elif w in _TENS:
            current += _TENS[w]
            seen = True
        elif w == "hundred" and seen:
            current = max(current, 1) * 100
        elif w == "thousand" and seen:
            total += max(current, 1) * 1000
            current = 0
    return total + current if seen else None


def yes_no(text: str) -> bool | None:
    """True for yes, False for no, None when neither (or both) was said."""
    said = normalize(text)
    if said in YES:
        return True
    if said in NO:
        return False
    words = set(said.split())
    yes = bool(words & YES) or any(p in said for p in YES if " " in p)
    no = bool(words & NO) or any(p in said for p in NO if " " in p)
    return yes if yes != no else None


def date_in(text: str, today: date | None = None, language: str = "en") -> date | None:
    """A date said or keyed: "2026-03-14", "03142026" (MMDDYYYY), "1215" (MMDD),
    "march the third", "tomorrow", "next tuesday", "3월 3일" (see ``ivr.understanding.dates``).
    Without a year, the next such day on or after ``today``."""
    return dates.date_in(text, today, language)
