# ruff: noqa: E501  (word lists and patterns read best one per line, however long)
"""What a sentence does in the conversation, read by rules: asks for something the line
serves, lists several problems, pushes back on the line's answer, gives up, or says the
caller has been in touch about this before.

Rules of this file:

* ``request_in`` finds a request the demo lines serve (order status, billing, store
  hours) in request shape ("where's my order", "what's my balance", "when do you
  close"), not a mere mention ("my bill is wrong" is not a request for the balance).
* ``issues_in`` counts *kinds* of problem (a wrong bill, a missing delivery, a change of
  details, a return, a refund, damage, rude staff, ...), so "return it and get a refund"
  is two and "late, late, late" is one; "three things" counts as three.
* ``pushback_in``, ``giving_up_in`` and ``repeat_contact_in`` return the words that show
  it, or "". Giving up is cancelled by a satisfied caller ("never mind, found it",
  "forget it, that's fine, bye") or a new request ("never mind the order, when do you
  close"); a repeat contact about a matter already fixed does not count.
* A negation in the three words before a pattern cancels it.
"""
from __future__ import annotations

import re

from ivr.understanding.needs import clean
from ivr.understanding.person import negated_before, words

__all__ = ["request_in", "issues_in", "pushback_in", "giving_up_in", "repeat_contact_in", "satisfied", "ORDINALS"]

_REQUESTS: tuple[tuple[str, str], ...] = (
    ("order status", r"\bwhere('s| is| are)?\b.{0,40}\b(order|orders|ordered|parcel|package|delivery|it|they|them|stuff|things?)\b"),
    ("order status", r"\b(has|have|is|was|are)\b[^,.]{0,45}\b(shipped|been sent|sent|gone out|dispatched|on its way|on their way|coming|held up|left)\b"),
    ("order status", r"\b(order|delivery|parcel|package) status\b|\bstatus (of|on)\b|\bwhere it is\b"),
    ("order status", r"\bcheck (on )?(my |the |her |his |our )?(\w+ )?(order|delivery|parcel|package)s?\b"),
    ("order status", r"\bwill (it|they|my \w+|the \w+) (be there|get here|arrive|come)\b"),
    ("billing", r"\b(what's|what is|check|know|hear|want|like|have) (my|the) (balance|bill)\b|\bmy balance\b|\bbalance please\b"),
    ("billing", r"\bpay (my|the|off my|off the) (bill|balance)\b|\bpay my\b|\bbilling\b"),
    ("store hours", r"\b(what time|when) (do|will|are) you\b.{0,15}\b(open|close|shut)\b|\b(opening|store|evening|weekend|your) hours\b"),
    ("store hours", r"\bare you open\b|\bopen (on|till|until|after|late|tomorrow|now|today|in the morning)\b|\bhow late\b|\bwhat are your hours\b"),
)
_REQUEST_PATTERNS = tuple((name, re.compile(p)) for name, p in _REQUESTS)

_ISSUES: tuple[tuple[str, str], ...] = (
    ("a wrong bill", r"\b(bill|invoice|statement|price)\b[^,.]{0,20}\b(wrong|incorrect|says)\b|\bwrong (bill|price|amount)\b"),
    ("a double charge", r"\bcharged (twice|two times|double)\b|\bdouble charged\b"),
    ("a missing or late delivery", r"\bnever (came|arrived|turned up)\b|\b(hasn't|has not|didn't|did not) (come|arrive|turn up)\b|\b(is|was|are) late\b|\bmissing\b|\bonly (one|two|some|half) of\b"),
    ("a change of details", r"\b(change|update|correct) (my|the) (address|email|card|payment card|details|name|phone number|number)\b|\bmy email is wrong\b"),
    ("a return", r"\b(return|exchange|swap|send (it|them) back)\b"),
    ("a refund", r"\brefund\b"),
    ("damaged goods", r"\b(broken|cracked|smashed|dented|damaged|torn)\b"),
    ("rude staff", r"\brude\b"),
    ("a voucher", r"\b(voucher|gift card|discount code)\b"),
    ("a delivery date", r"\b(move|change|rearrange) the (delivery|day|date)\b"),
    ("a wrong address", r"\bwrong (house|address|door)\b"),
)
_ISSUE_PATTERNS = tuple((name, re.compile(p)) for name, p in _ISSUES)
_SAID_COUNT = re.compile(r"\b(two|three|four|a few|a couple of|several) (things|problems|issues|questions)\b")
_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "a few": 3, "a couple of": 2, "several": 3}

_PUSHBACK = re.compile(
    r"\b(that's|that is|thats|it's|this is) (not right|wrong|not true|not correct|incorrect|rubbish|not what)\b"
    r"|\bcan't (have|be) (shipped|sent|right|true|delivered)\b|\b(doesn't|does not|don't|do not) match\b"
    r"|\b(says|said) (it's |it was |it is )?delivered but\b|\bbut (the|it|my|your) \w+ (says|said|told|shows)\b"
    r"|\b(you|it|they) (told|said)( me)? that (last|before|yesterday|twice)\b|\bthat's what (it|you|they) (said|told me)\b"
    r"|\bthat's what i was told\b|\b(hasn't|has not|never) (moved|turned up)\b|\bit's not here\b|\bwhich is it\b"
    r"|\bshipped where\b|\bno no\b")
_GIVING_UP = re.compile(
    r"(^|[,.!?;] ?|\b(oh|just|then|ah|so|well) )forget it\b|\bnever ?mind\b|\bi('ll| will| just)? give up\b|\bi('ve| have) given up\b"
    r"|\bwhat's the point\b|\bdon't bother\b|\b(getting|get|got) (me )?nowhere\b"
    r"|\bi('ll| will) (just )?(go|buy it|shop|try|sort it|do it)( \w+){0,3} (elsewhere|somewhere else|myself|another way)\b"
    r"|\b(doesn't|does not) matter(?! which)\b|\bi don't know what (else )?to do\b|\bi('m| am) (hanging|going to hang) up\b")
_SATISFIED = re.compile(r"\b(found it|here it is|that's fine|that's all|thanks|thank you|all set|all good|got it)\b")
_REPEAT_STRONG = re.compile(
    r"\b(second|third|fourth|fifth|sixth|umpteenth|\d+(st|nd|rd|th)) (time|call)\b"
    r"|\b(called|rung|rang|phoned|emailed|calling|ringing|contacted|written)\b[^,.]{0,25}\b(every day|twice|three times|four times|several times|many times|so many times|multiple times|again and again)\b"
    r"|\b(promised|supposed|meant|said|told)\b[^,.]{0,40}\b(call|ring|phone|get back to|email) me( back)?\b|\bpromised (a|me a) call ?back\b"
    r"|\bstill (waiting|not sorted|hasn't been sorted|no (reply|answer|refund|news))\b|\bkeep having to (call|ring|phone)\b"
    r"|\bno (reply|response|answer) (from you|yet)\b|\bnobody (ever )?(did|called|rang|phoned|got back)\b"
    r"|\b(he|she|they|you) never (did|called|rang|phoned|got back)\b"
    r"|\b(rang|called|phoned) (this morning|yesterday|last week|before|earlier)\b[^.]*\b(cut off|was told|were told|promised|still)\b")
_RESOLVED = re.compile(r"\b(fixed|sorted) it\b|\bit's (sorted|fixed)\b|\b(called|rang|phoned) me back\b")
ORDINALS = ("second", "third", "fourth", "fifth", "sixth")


def _first(pattern: re.Pattern[str], said: str, negatable: bool = True) -> str:
    for match in pattern.finditer(said):
        before = words(said[: match.start()])
        if negatable and negated_before(before, len(before)):
            continue
        return match.group(0).strip(" ,.!?;")
    return ""


def request_in(text: str) -> str:
    """The request the line can serve that ``text`` makes ("order status", "billing",
    "store hours"), or ""."""
    said = clean(text)
    for name, pattern in _REQUEST_PATTERNS:
        if _first(pattern, said):
            return name
    return ""


def issues_in(text: str) -> tuple[str, ...]:
    """The kinds of problem ``text`` raises, in the caller's terms ("a refund", ...). When
    the caller says how many ("three things"), at least that many entries come back."""
    said = clean(text)
    found = [name for name, pattern in _ISSUE_PATTERNS if _first(pattern, said)]
    counted = _SAID_COUNT.search(said)
    if counted:
        want = _COUNT_WORDS[counted.group(1)]
        found += ["another matter"] * max(0, want - len(found))
    return tuple(found)


def pushback_in(text: str) -> str:
    """Words saying the line's last answer is wrong or was wrong before, or ""."""
    return _first(_PUSHBACK, clean(text))


def satisfied(text: str) -> bool:
    """The caller sounds content or is closing ("found it", "that's all", "thank you")."""
    return bool(_SATISFIED.search(clean(text)))


def giving_up_in(text: str) -> str:
    """Words of a caller giving up on the automated line, or ""."""
    said = clean(text)
    if _SATISFIED.search(said) or request_in(said):
        return ""
    return _first(_GIVING_UP, said, negatable=False)  # "I don't know it, forget it"


def repeat_contact_in(text: str) -> str:
    """Words saying the caller has been in touch about this before without it being put
    right ("third time I've rung", "nobody ever rang back"), or ""."""
    said = clean(text)
    if _RESOLVED.search(said):
        return ""
    return _first(_REPEAT_STRONG, said)
