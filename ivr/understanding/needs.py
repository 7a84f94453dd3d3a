# ruff: noqa: E501  (word lists and patterns read best one per line, however long)
"""Needs only a person can meet, read from one sentence by rules.

``needs_in(text)`` returns the ``Need`` s a caller's sentence is about: a death in the
family, fraud or a break-in to their account, legal action, a product that hurt someone
or is dangerous, a disability that makes the automated line hard to use, money trouble,
leaving after years as a customer, calling with authority for someone else, damaged or
wrong goods (with a deadline when one is said), a large or business order, a complaint.

Rules of this file:

* Each kind has *strong* patterns (the sentence is about the need whatever else it asks:
  "my husband died and the account is in his name") and *weak* ones that count only when
  the sentence asks for nothing the line can serve ("flowers for a friend's funeral, can
  you check the delivery" is an order-status call).
* A negation in the three words before a pattern cancels it ("I don't want to cancel my
  account", "it's not fraud"). Each kind may have guards that cancel it for the whole
  sentence: the matter is already dealt with ("the bank sorted it"), the caller names a
  profession ("I'm a solicitor"), or copes on their own ("so I'll use the buttons").
* A death needs a person who died ("my printer died" is a worn-out product); an injury
  needs the product to have failed ("I cut my finger so it's hard to type" is not one).
* Patterns run on the lower-case sentence with typographic apostrophes straightened.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ivr.understanding.person import negated_before, words

__all__ = ["Need", "NEEDS", "SAYS", "needs_in", "guarded", "clean"]

_PERSON = (r"(husband|wife|partner|mother|mum|mom|mam|father|dad|son|daughter|brother|sister|grandad|granddad|grandpa|"
           r"grandma|gran|granny|grandmother|grandfather|uncle|aunt|auntie|nan|nana|child|baby|boyfriend|girlfriend|"
           r"fianc\w*|cousin|nephew|niece|friend|parents?|he|she|husband's|wife's)")
_DAMAGE = (r"(torn|ripped|smashed|broken|cracked|dented|damaged|scratched|shattered|crushed|squashed|stained|faulty|"
           r"missing (its|a|the|some|parts?|pieces?)|wrong (size|colour|color|item|one|thing|model)|not working|"
           r"doesn't work|won't work)")
_QTY = r"(dozens?|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|\d{2,})"
DEADLINE = re.compile(
    r"\b(tomorrow|tonight|today|this (weekend|week)|next week|(on|by|for|before) (monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday)|term starts|is due|fly out)\b"
    r"|\b(wedding|party|christening|birthday|funeral|flight|holiday|in time for)\b")

# What an agent reads about each kind, in the caller's terms.
SAYS: dict[str, str] = {
    "bereavement": "talks about a death in the family",
    "fraud": "reports payments or account access they did not make (fraud or security)",
    "legal": "mentions legal action or a legal matter",
    "complaint": "wants to make a complaint",
    "safety": "reports a product that hurt someone or is dangerous",
    "accessibility": "finds the automated line hard to use because of a disability",
    "hardship": "is in money difficulty and cannot pay as usual",
    "cancellation": "wants to leave or close the account",
    "third_party": "is calling with authority for someone else",
    "damaged": "received damaged or wrong goods",
    "bulk": "wants a large or business order",
}

# kind: (strong patterns, weak patterns, guards that cancel the kind for the sentence)
_RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "bereavement": (
        (rf"\b{_PERSON}('s| has| had| is| was| just| sadly| suddenly)* (died|passed( away| on)?(?! (his|her|my|the|a|an|it|by|through))|gone(?! (to|out|off|for|and|into|in|over|back|up|down|away on|shopping))|killed|no longer with us)\b",
         rf"\b(lost|buried|cremated) (my|our) {_PERSON}\b",
         rf"\b(my|our) {_PERSON}'s funeral\b", r"\bfuneral (was|is) (on|today|yesterday|last|this)\b",
         r"\bdeath certificate\b", r"\bexecutor\b", r"\b(his|her|their|\w+'s) estate\b", r"\bbereave\w*\b",
         r"\bwidow(ed|er)?\b", r"\bno longer with us\b", r"\bpassed away\b"),
        (r"\blate (husband|wife|partner|mother|mum|father|dad|son|daughter|brother|sister|grand\w+|uncle|aunt\w*)\b",
         r"\bfuneral\b", r"\bmemorial\b", r"\bin memory of\b"),
        (),
    ),
    "fraud": (
        (r"\b(i|we) (didn't|did not|never) (make|made|buy|bought|order|ordered|authori[sz]e|authori[sz]ed|spend|spent|sign|signed)\b",
         r"\bbut i never did\b", r"\b(don't|do not|didn't) recogni[sz]e\b", r"\b(aren't|are not|isn't|is not) mine\b",
         r"\bhacked\b", r"\b(someone|somebody)( has| had|'s)? (got into|get into|changed|used|opened|accessed|logged into)\b",
         r"\b(stolen|stole)\b", r"\b(was|been|is) a scam\b", r"\bscammed\b", r"\bphish\w*\b", r"\bcloned\b", r"\bfraud\w*\b",
         r"\bidentity theft\b", r"\bunauthori[sz]ed\b",
         r"\b(address|place|shop|country|city)( that)? (i('ve| have) )?never (heard of|been( to)?|lived)\b", r"\bnever been there\b",
         r"\bclicked (on )?a link\b", r"\bgave (my|them my|away my) (card|bank) details\b", r"\bmoney('s| has)? (gone|disappeared)\b"),
        (r"\bscams?\b", r"\bsuspicious\b"),
        (r"\b(it's|it has been|it was|it got|has been|all been|bank|they've|they have|they) (all )?(sorted|resolved|replaced|fixed|dealt with|refunded)\b",
         r"\bsorted it\b", r"\bgot a new (card|one)\b", r"\bafter all\b", r"\bwent through\b", r"\bit worked\b", r"\bfine now\b"),
    ),
    "legal": (
        (r"\b(lawyer|solicitor|attorney|barrister)s?\b", r"\bcourt papers\b", r"\b(in|to|see you in) court\b", r"\bsmall claims\b",
         r"\b(sue|suing|sued|lawsuit)\b", r"\blegal (action|letter|proceedings)\b", r"\btak(e|ing) (this|it|you|the matter) further\b",
         r"\bombudsman\b", r"\btrading standards\b", r"\bdebt collect\w*\b", r"\bbailiffs?\b", r"\bpersonal data\b",
         r"\bdata protection\b", r"\bsubject access\b"),
        (),
        (r"\b(i'm|i am|he's|she's|who's|who is|as) (a|an) (\w+ )?(lawyer|solicitor|attorney|barrister)\b",
         r"\b(lawyer|solicitor)('s)? (friend|office|offices)\b", r"\bpower of attorney\b", r"\blaw (student|degree|firm)\b"),
    ),
    "complaint": (
        (r"\b(complain|complaint)\b",),
        (),
        (),
    ),
    "safety": (
        (r"\b(caught|catch|on) fire\b", r"\bburst into flames\b", r"\b(started|was|is|it's|began) smoking\b", r"\bmelted\b",
         r"\bexplod\w*\b", r"\bspark(s|ed|ing)\b", r"\belectric shock\b", r"\bshock (off|from)\b", r"\bchok(ed|ing)\b",
         r"\ballergic reaction\b", r"\btoxic\b", r"\bpoison\w*\b", r"\bgas (leak|smell)\b", r"\bsmells? of (gas|burning)\b",
         r"\bswollen\b", r"\boverheat\w*\b", r"\bscared to use\b", r"\b(ill|sick) after (chewing|eating|using|wearing|taking)\b",
         r"\bended up in (hospital|a&e)\b",
         r"\b(hurt|injur\w*|cut|burn(ed|t)?|bruised|bleeding)\b(?=.*\b(collapsed|came off|gave way|fell apart|snapped|broke (when|under|while)|exploded|when i sat|off the|from the|you sold|you sent)\b)",
         r"\b(collapsed|came off|gave way|fell apart|snapped|broke (when|under|while)|exploded)\b(?=.*\b(hurt|injur\w*|cut|burn(ed|t)?|bruised|bleeding)\b)"),
        (),
        (r"\b(smoke|fire) alarm\b", r"\bfire ?fighter\b"),
    ),
    "accessibility": (
        (r"\b(i'm|i am|i've been|he's|she's|being) (\w+ )?(blind|deaf|partially sighted|visually impaired|autistic|disabled|in a wheelchair)\b",
         r"\b(i|he|she) uses? a wheelchair\b", r"\bwheelchair user\b", r"\bscreen reader\b", r"\brelay service\b",
         r"\bhard of hearing\b", r"\b(can't|cannot) (see|read) (the|your|my) (letters|writing|small|screen|print|bills?)\b",
         r"\b(can't|cannot) (hear|make out) (what|you|the|anything)\b", r"\b(can't|cannot) (press|use) the (buttons|keypad|keys|phone)\b",
         r"\b(since|after) (my|his|her) stroke\b", r"\b(dementia|alzheimer\w*|learning difficult\w*|sight loss|hearing loss)\b",
         r"\bfind (these|this|the) (menus?|phone|machines?) (\w+ )?(really |very |so )?(hard|difficult|confusing)\b"),
        (r"\blarge print\b", r"\bwheelchair\b"),
        (r"\bso i('ll| will) (just )?(use|press) (the )?(buttons|keypad|keys)\b", r"\bbut i can hear\b"),
    ),
    "hardship": (
        (r"\b(can't|cannot|can not|won't be able to|unable to) (afford|pay|keep up)\b", r"\bstruggling (to|with)\b",
         r"\bpayment (plan|holiday|break)\b", r"\bspread (the cost|it|what i owe|the payments?|my payments?)\b",
         r"\bbehind (on|with)\b", r"\bmissed (\w+ )?payments?\b", r"\bin (\w+ ){0,3}debt\b", r"\blost my job\b",
         r"\b(made redundant|redundancy|out of work|unemployed)\b", r"\bbenefits\b", r"\b(no|without) (pay|income|money)\b",
         r"\bhours (were|got|have been) cut\b", r"\bbreak from (the )?payments\b", r"\bhelp with what i owe\b", r"\bhardship\b"),
        (),
        (),
    ),
    "cancellation": (
        (r"\b(cancel|close|shut|end|terminate|stop)( down)? (my|the|our) (account|membership|subscription|contract)\b",
         r"\b(shut|close) (the|my) account down\b", r"\bstop my (subscription|membership)\b", r"\b(i'm|i am) leaving\b",
         r"\b(going|moving|switching) to (another|a different) (company|provider|shop|retailer)\b",
         r"\btak(e|ing) my (business|custom) elsewhere\b", r"\btake me off your (books|list)\b", r"\b(done|finished) with you\b",
         r"\bwant to be (a|your) customer\b", r"\bno longer (a|your) customer\b", r"\bstop (everything|all (deliveries|orders))\b",
         r"\bwant to end it\b", r"\bend (my|the) contract\b"),
        (),
        (),
    ),
    "third_party": (
        (r"\bpower of attorney\b", r"\b(legal )?guardian\b", r"\bcarer (for|of)\b", r"\b(i'm|i am) (a|her|his|their) carer\b",
         r"\bsocial worker\b", r"\b(look|looking) after (my \w+'s|her|his|their) (affairs|money|finances|account)\b",
         r"\b(take over|deal with|sort out|run|manage) (her|his|their|my \w+'s) (account|affairs|bills?|finances)\b",
         r"\bcare home\b", r"\b(she's|he's|they're|she is|he is) in hospital\b", r"\bcan't manage (his|her|their)\b",
         r"\b(add|put) (my \w+|someone|somebody) (on|to) (the|my) account\b", r"\bdeal with my account for me\b",
         r"\bmy client\b"),
        (r"\bon behalf of\b",),
        (),
    ),
    "damaged": (
        (rf"\b(arrived?|came|was delivered|were delivered|turned up|got here)\b[^.]{{0,30}}\b{_DAMAGE}",
         r"\b(you|they) (have )?sent (me )?(the |a )?wrong\b", r"\bsent the wrong\b", r"\bsomeone else's (parcel|order|item|box)\b",
         r"\b(it's|it is) the wrong (size|colour|color|item|model)\b", r"\bis missing (its|a|the|some) \w+",
         r"\bthe (screen|door|leg|handle|lid|glass|frame) (is|was) (cracked|broken|dented|smashed|missing)\b",
         rf"\bdelivered {_DAMAGE}"),
        (),
        (r"\bbut (it's|its|everything|it was|they're|all)( all)? (fine|ok|okay|alright)\b",
         r"\b(everything|it)( inside)? (was|is) fine\b"),
    ),
    "bulk": (
        (rf"\b(need|want|buy|place|rent|get|quote|price|looking for|like)\b[^.]{{0,40}}\b{_QTY}\b",
         r"\btrade (account|price|prices|discount)\b", r"\bwholesale\b", r"\bbulk (order|buy|discount|price)\b",
         r"\bbusiness account\b", r"\bone invoice\b", r"\bconsolidated invoic\w*\b", rf"\b{_QTY} (staff|employees|people|members)\b"),
        (r"\bfor (our|the) (company|business|school|office|hotel|charity)\b",),
        (r"\b(personal|my own) (order|account)\b", r"\bthis is my own\b"),
    ),
}

NEEDS: tuple[str, ...] = tuple(_RULES)
_COMPILED = {kind: (tuple(re.compile(p) for p in strong), tuple(re.compile(p) for p in weak), tuple(re.compile(p) for p in guards))
             for kind, (strong, weak, guards) in _RULES.items()}


@dataclass(frozen=True)
class Need:
    """A need only a person can meet: ``kind`` (one of ``NEEDS``), what it means in the
    caller's terms (``says``) and the words of the sentence that showed it (``cue``)."""

    kind: str
    says: str
    cue: str


def clean(text: str) -> str:
    """Lower case, straight apostrophes, single spaces: what the patterns read."""
    return " ".join(text.lower().replace("’", "'").split())


def _hit(pattern: re.Pattern[str], said: str) -> str:
    for match in pattern.finditer(said):
        before = words(said[: match.start()])
        if negated_before(before, len(before)):
            continue
        return match.group(0)
    return ""


def guarded(kind: str, text: str) -> bool:
    """True when a guard of ``kind`` cancels it for this sentence ("the bank sorted it")."""
    said = clean(text)
    return any(g.search(said) for g in _COMPILED.get(kind, ((), (), ()))[2])


def needs_in(text: str, serviceable: bool = False) -> tuple[Need, ...]:
    """The needs ``text`` is about, strongest evidence first. ``serviceable`` says the
    sentence also asks for something the line can do; weak cues then do not count."""
    said = clean(text)
    found: list[Need] = []
    for kind, (strong, weak, guards) in _COMPILED.items():
        if any(g.search(said) for g in guards):
            continue
        cue = next((c for c in (_hit(p, said) for p in strong) if c), "")
        if not cue and not serviceable:
            cue = next((c for c in (_hit(p, said) for p in weak) if c), "")
        if not cue:
            continue
        says = SAYS[kind]
        if kind == "damaged":
            dates = [m.group(0) for m in DEADLINE.finditer(said)]
            when = sorted(dates, key=lambda d: d in ("wedding", "party", "christening", "birthday", "funeral", "flight", "holiday", "in time for"))
            if when:
                says += f", needed by a date ({when[0]})"
        found.append(Need(kind, says, cue.strip()))
    return tuple(found)
