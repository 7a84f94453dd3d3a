"""How negative one utterance sounds, tuned for callers talking to a phone menu.

``negativity(text)`` returns a ``Negativity`` (a level in [0, 1] and the cues that made
it) for one transcript. It combines two sources:

* VADER (``vaderSentiment``): a valence lexicon with rules for negation ("I'm not
  upset" is not negative), boosters ("really annoying") and "but" clauses. Its lexicon
  is adjusted for a support line: words that *describe the caller's problem* ("problem",
  "wrong", "lost", "cancel", "fraud", "died") or that are simply conversational ("no",
  "yes", "okay", "please") are flattened, because a caller who says "my card was stolen"
  or "no thanks" is not thereby upset; words aimed at the service ("ridiculous",
  "useless", "pathetic") and swearing are strengthened.
* Spoken-complaint phrases VADER cannot see word by word ("I already told you", "waste
  of time", "not helpful", "are you kidding me", "how many times") and sarcasm that can
  reasonably be caught ("oh great", "thanks for nothing", "yeah right"). Each phrase has
  its own strength; a phrase found in the text is removed before VADER scores the rest,
  so "oh great" does not also count as praise. Sarcasm cues are dropped when the caller
  also thanks ("oh great, it's coming tomorrow, thank you" is sincere). Swearing counts
  as a phrase of its own, so a long sentence cannot dilute it.

The two combine by noisy-or: ``1 - (1 - vader) * prod(1 - phrase)``. The lexicon is
read once, when this module is imported; scoring does no I/O.

``aimed_negativity(text)`` is what the escalation detector uses: the negativity of the
parts of the sentence aimed at the service or the call. A caller who says "the weather's
been awful", "I'm such an idiot, I typed it wrong" or "I've had a horrible week" is not
frustrated with the line. Clause by clause (split at commas and "but"/"and"/"so"):

* a clause about the caller's own life or clumsiness (weather, traffic, a cold, a bad
  week, "stupid me", "I dropped the phone") counts only if it also names the service;
* a clause counts when it names the service or the call ("you", "your company", "this
  machine", "the delivery", "this is ..."), states the caller's anger ("I'm annoyed"),
  uses a spoken-complaint phrase or swears, or passes a judgement only a service earns
  ("unacceptable", "ridiculous", "pathetic", "a shambles").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

__all__ = ["Negativity", "negativity", "aimed_negativity", "PHRASES"]

# Valences (VADER's -4..4 scale) that replace or extend VADER's own.
_LEXICON_CHANGES: dict[str, float] = {
    # the caller's problem or plain conversation, not their mood
    "no": 0.0, "yes": 0.0, "ok": 0.0, "okay": 0.0, "please": 0.3, "help": 0.3,
    "like": 0.0, "well": 0.0, "sure": 0.0, "fine": 0.0, "want": 0.0, "sorry": 0.0,
    "problem": -0.5, "wrong": -0.6, "lost": -0.3, "missing": -0.3, "cancel": 0.0,
    "fraud": 0.0, "damaged": -0.4, "broken": -0.4, "stolen": -0.4, "died": 0.0,
    "dead": -0.3, "stop": 0.0, "pay": 0.0, "complaint": -0.3, "emergency": -0.5,
    "trouble": -0.6, "lose": -0.5, "worried": -0.8, "confused": -0.8, "hard": 0.0,
    "difficult": -0.6, "stuck": -0.8, "great": 2.0, "good": 1.2, "perfect": 2.0,
    "legal": 0.0, "funny": 0.0, "god": 0.0, "unbelievable": -2.0, "joke": -1.6,
    "kidding": 0.0, "seriously": -1.2, "tired": -0.8, "sick": -0.8, "late": 0.0,
    "hold": 0.0, "charged": 0.0, "cancelled": 0.0, "canceled": 0.0,
    # aimed at the service, and swearing
    "ridiculous": -2.8, "useless": -2.8, "pathetic": -3.0, "incompetent": -2.8,
    "nonsense": -2.4, "rubbish": -2.4, "garbage": -2.6, "idiotic": -2.8, "stupid": -2.8,
    "annoying": -2.4, "annoyed": -2.4, "frustrating": -2.6, "frustrated": -2.6,
    "infuriating": -3.0, "furious": -3.0, "unacceptable": -2.8, "terrible": -2.6,
    "horrible": -2.6, "awful": -2.6, "disgraceful": -3.0, "outrageous": -2.8,
    "hopeless": -2.4, "absurd": -2.4, "insane": -2.0, "fed": 0.0, "crap": -2.6,
    "damn": -2.6, "dammit": -2.8, "goddamn": -3.0, "hell": -2.2, "shit": -3.0,
    "bullshit": -3.2, "fuck": -3.4, "fucking": -3.2, "fuckin": -3.2, "effing": -2.6,
    "freaking": -2.2, "frigging": -2.2, "bloody": -2.2, "pissed": -3.2, "wtf": -3.0,
    "bs": -2.6, "screw": -2.0, "sucks": -2.6, "worst": -3.0, "hate": -2.8,
    "shambles": -2.6, "disgrace": -2.8, "shambolic": -2.6, "hacked": -0.4, "debt": -0.4, "shock": -0.3,
    "choked": -0.3, "struggling": -0.5, "killed": -0.5, "funeral": -0.3,
}

# Phrases (regular expressions over lower-case text) and how negative each one is, 0..1.
PHRASES: tuple[tuple[str, float, str], ...] = (
    (r"\bi (already|just) (told|said|gave|entered|typed|pressed)\b", 0.55, "I already told you"),
    (r"\b(told|said) (you|it) (already|twice|three times|before)\b", 0.55, "told you already"),
    (r"\bhow many (more )?times\b", 0.6, "how many times"),
    (r"\bfor the (second|third|fourth|fifth|last) time\b", 0.6, "for the nth time"),
    (r"\b(this|that|you|it)('s| is| are|'re) (so |completely |totally |absolutely )?useless\b", 0.7, "this is useless"),
    (r"\bnot (very |at all |remotely )?helpful\b", 0.55, "not helpful"),
    (r"\b(no|not any|zero) help at all\b", 0.55, "no help at all"),
    (r"\bwaste of (my )?time\b", 0.7, "waste of time"),
    (r"\bwasting my time\b", 0.7, "wasting my time"),
    (r"\b(are|r) you (kidding|joking|serious)( me)?\b", 0.6, "are you kidding me"),
    (r"\byou('re| are) (not|n't) (listening|understanding)\b", 0.6, "you're not listening"),
    (r"\b(you|it) (do|does)(n't| not) (understand|listen|work)\b", 0.55, "it doesn't understand"),
    (r"\b(are|is) (you|anyone|anybody) (even )?listening\b", 0.6, "are you even listening"),
    (r"\b(stupid|dumb|useless|bloody|damn|stupid) (machine|robot|computer|system|menu|thing)\b", 0.75, "insulting the machine"),
    (r"\b(going|go|goes|keep going|running) (round |around )?in circles\b", 0.6, "going in circles"),
    (r"\bsick (and tired )?of\b", 0.65, "sick of"),
    (r"\bfed up\b", 0.65, "fed up"),
    (r"\b(i'?ve|i have) had (it|enough)\b", 0.65, "had enough"),
    (r"\bgive me a break\b", 0.5, "give me a break"),
    (r"\bfor (god'?s|heaven'?s|pete'?s|christ'?s) sake\b", 0.65, "for god's sake"),
    (r"\bfor crying out loud\b", 0.65, "for crying out loud"),
    (r"\b(oh )?come on\b", 0.5, "come on"),
    (r"\bwhat a joke\b", 0.6, "what a joke"),
    (r"\bthis is (a )?(joke|nonsense|insane|absurd|unbelievable)\b", 0.55, "this is a joke"),
    (r"\bunbelievable\b", 0.3, "unbelievable"),
    (r"\bnot again\b", 0.4, "not again"),
    (r"\b(again|still)\?", 0.2, "again?"),
    (r"\bi('ve| have) been (waiting|trying|calling) (for )?(ages|weeks|days|forever|an hour|hours)\b", 0.6, "waiting for ages"),
    (r"\b(called|calling|phoned|rung|tried) (\w+ )?(three|four|five|several|many|multiple|\d+) times\b", 0.45, "called many times"),
    (r"\bnobody (ever )?(helps|calls back|answers)\b", 0.5, "nobody helps"),
    # swearing: anger on its own, whatever the rest of the sentence says
    (r"\b(hell|damn|dammit|goddamn|bloody|shit|shitty|bullshit|fuck\w*|effing|freaking|frigging|crap|crappy|wtf|pissed)\b", 0.6, "swearing"),
    # sarcasm (dropped when the caller also thanks, see _SINCERE)
    (r"\boh (great|wonderful|perfect|brilliant|fantastic|lovely|terrific|super)\b", 0.55, "sarcasm: oh great"),
    (r"\b(just|really|very|so) (great|wonderful|perfect|brilliant|fantastic|lovely),? (just|really|thanks|another|more)\b", 0.45, "sarcasm"),
    (r"\bthanks for nothing\b", 0.75, "thanks for nothing"),
    (r"\byeah,? right\b", 0.6, "sarcasm: yeah right"),
    (r"\b(so|very|really|super) helpful,? (not|thanks|really)\b", 0.5, "sarcasm: so helpful"),
    (r"\b(great|wonderful|lovely|fantastic),? (another|more|yet another) (menu|recording|robot|machine|option|question)s?\b", 0.55, "sarcasm: another menu"),
    (r"\b(love|loving) (this|these) (menu|menus|robot|machine|system)s?\b", 0.5, "sarcasm: love this menu"),
)
_POLITE_NO = re.compile(r"\bno,? thank(s| you)\b")
_SINCERE = re.compile(r"\b(thank|thanks|cheers|appreciate)\b")
_COMPILED = tuple((re.compile(p), strength, cue) for p, strength, cue in PHRASES)
# A phrase right after one of these is reported, not meant ("it's not a waste of time").
_PHRASE_NEGATION = re.compile(r"\b(not|n't|never|no) (a |really |that |so )?$")

_ANALYZER = SentimentIntensityAnalyzer()
_ANALYZER.lexicon.update(_LEXICON_CHANGES)


@dataclass(frozen=True)
class Negativity:
    """How negative an utterance sounds: ``level`` in [0, 1]; ``cues`` say why."""

    level: float
    cues: tuple[str, ...] = ()


def negativity(text: str) -> Negativity:
    """Score one transcript. Empty text is neutral (level 0)."""
    lowered = text.lower().replace("’", "'").strip()
    if not lowered:
        return Negativity(0.0)
    cues: list[str] = []
    keep = 1.0
    rest = lowered
    for pattern, strength, cue in _COMPILED:
        for match in pattern.finditer(lowered):
            if cue != "not helpful" and _PHRASE_NEGATION.search(lowered[: match.start()]):
                continue
            if cue.startswith("sarcasm") and _SINCERE.search(lowered):
                continue
            keep *= 1.0 - strength
            cues.append(cue)
            rest = rest.replace(match.group(0), " ")
            break
    rest = _POLITE_NO.sub("thanks", rest)  # "no thanks" declines politely; VADER reads it as negative
    compound = _ANALYZER.polarity_scores(rest)["compound"]
    vader = max(0.0, -compound)
    if vader >= 0.3:
        cues.extend(_negative_words(rest))
    level = 1.0 - (1.0 - vader) * keep
    return Negativity(round(level, 3), tuple(dict.fromkeys(cues)))


def _negative_words(text: str) -> list[str]:
    """The words of ``text`` with a clearly negative valence, for the agent to read."""
    out = []
    for word in re.findall(r"[a-z']+", text):
        if _ANALYZER.lexicon.get(word, 0.0) <= -1.5:
            out.append(f'"{word}"')
    return out


_CLAUSES = re.compile(r"[,;.!?]+|\b(?:but|and|so|because)\b")
_SERVICE = re.compile(
    r"\b(you|your|you're|yours|you've|company|service|machine|system|systems|menu|menus|robot|computer|automated|recording|"
    r"shop|store|staff|driver|courier|delivery|deliveries|order|parcel|package|line|website|app|customer service)\b"
    r"|\b(this|that|it)('s| is| was| has been) \b|^(this|that)$")
_LIFE = re.compile(
    r"\b(weather|rain|rainy|storm|snow|wind|hurricane|traffic|cold|flu|week|day|night|morning|weekend|work|team|kids|car|"
    r"power|knee|back|life|news|home)\b")
_SELF = re.compile(
    r"\b(i'm|i am|i was) (such an? |so |a bit |really )?(idiot|stupid|clumsy|terrible|hopeless|useless|rubbish|silly|daft)\b"
    r"|\b(stupid|silly|clumsy) me\b|\bmy (own )?fault\b|\bi('ve| have)? (lost|dropped|forgot|broke|typed|pressed the wrong)\b"
    r"|\bwith myself\b")
_EMOTION = re.compile(r"\b(i'm|i am|i feel|i'm getting|i'm really|i'm so) (\w+ ){0,2}(annoyed|angry|furious|frustrated|upset|livid|disgusted|fuming|cross|irritated)\b")
_JUDGEMENT = re.compile(r"\b(unacceptable|ridiculous|pathetic|disgrace\w*|shambl\w+|incompetent|outrageous|absurd|a joke|useless|hopeless|(the )?worst \w+)\b")


def aimed_negativity(text: str) -> Negativity:
    """Negativity of the parts of ``text`` aimed at the service or the call (see the
    module doc); 0 when the caller is only unhappy about the weather, their week or
    their own slip."""
    lowered = text.lower().replace("’", "'").strip()
    sincere = bool(_SINCERE.search(lowered))
    best = Negativity(0.0)
    for part in _CLAUSES.split(lowered):
        clause = part.strip()
        if not clause:
            continue
        found = negativity(clause)
        if sincere and found.cues and all(c.startswith("sarcasm") for c in found.cues):
            continue  # "oh great, it's coming tomorrow, thank you" is sincere
        judged = _JUDGEMENT.search(clause)
        if judged and found.level < 0.6:
            found = Negativity(0.6, (f'"{judged.group(0)}"', *found.cues))
        if found.level <= best.level:
            continue
        service = bool(_SERVICE.search(clause))
        if (_LIFE.search(clause) or _SELF.search(clause)) and not _named_service(clause):
            continue
        phrase = any(cue in _AIMED_CUES or cue.startswith("sarcasm") for cue in found.cues)
        if service or phrase or _EMOTION.search(clause) or judged:
            best = found
    return best


def _named_service(clause: str) -> bool:
    """The clause names the service itself, not just "this" or "it"."""
    return bool(re.search(r"\b(you|your|you're|company|service|machine|system|menu|automated|robot|customer service)\b", clause))


_AIMED_CUES = frozenset(cue for _, _, cue in PHRASES) - {"unbelievable", "again?"}
