"""Caller memory as the engine sees it: the flow's ``memory:`` settings and what a
returning caller's profile means for this call.

A shell reads the caller's profile from the records (keyed by a keyed hash of the
number, never the number) and hands it to the engine inside ``CallStarted.memory``: a
plain mapping (``Profile.to_dict``), or None when there is no memory for this call
(the flow does not opt in, the number is withheld, the records are slow or down).
``recall`` turns the profile into what this call may use, by the call's own clock; at
the end of the call ``remembered`` says what goes back into the profile.

Rules of this file: everything here is pure data and pure functions (no clock: times
come in as arguments); a secret slot is never remembered, whatever the flow says; a
number Twilio sends for a withheld caller (``is_withheld``) has no memory.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .flow import NOWHERE, Prompt
from .problems import Where

__all__ = ["WITHHELD", "is_withheld", "Shortcut", "MemorySettings", "Recall", "recall", "remembered",
           "repeat_text", "ordinal", "MAX_CALLS"]

# What Twilio puts in ``From`` when the caller's number is not known or not shown.
WITHHELD = frozenset({"", "anonymous", "restricted", "unknown", "private", "unavailable", "+266696687",
                      "266696687", "+7378742833", "+86282452253", "+2562533"})
MAX_CALLS = 10  # calls kept in a profile, newest first


def is_withheld(number: str | None) -> bool:
    """True when ``number`` does not identify a caller (withheld, anonymous, unknown)."""
    if number is None:
        return True
    plain = number.strip().lower()
    return plain in WITHHELD or not any(ch.isdigit() for ch in plain)


@dataclass(frozen=True)
class Shortcut:
    """A topic a returning caller can jump back to: the menu option's ``label``, the node
    the shortcut goes to, and the remembered slot it fills on the way ("" for none)."""

    topic: str
    go: str
    slot: str = ""


@dataclass(frozen=True)
class MemorySettings:
    """The flow's ``memory:`` block, resolved when the flow loads.

    ``retention_days``: a profile is kept this long after the caller's last call.
    ``verified_minutes``: a caller verified this recently is not asked again (0: always
    asked). ``repeat_hours``: calls about one topic within this window are a sign for
    the escalation detector. ``remember``: slots safe to keep (lookup keys such as an
    order number; never secret ones). ``topics``: option label -> shortcut.
    ``languages``: a returning caller's language -> the node that takes them there.
    ``notice``: heard on the first call the line remembers; ``welcome``: the returning
    caller's question, with ``{topic}`` filled in.
    """

    retention_days: int = 90
    verified_minutes: int = 0
    repeat_hours: float = 24.0
    remember: tuple[str, ...] = ()
    topics: Mapping[str, Shortcut] = field(default_factory=dict)
    languages: Mapping[str, str] = field(default_factory=dict)
    notice: Prompt = Prompt()
    welcome: Prompt = Prompt()
    where: Where = NOWHERE


@dataclass(frozen=True)
class Recall:
    """What this call may use of the caller's profile (see ``recall``)."""

    known: bool = False  # the caller has called before (and the line remembers it)
    language: str = ""  # the language of their last call
    shortcut: Shortcut | None = None  # the last topic, offered as a shortcut
    said: str = ""  # how the last topic is said, e.g. "order status, 123456"
    slots: Mapping[str, str] = field(default_factory=dict)  # the shortcut's remembered slot
    verified: bool = False  # verified within the flow's window
    verified_slots: Mapping[str, str] = field(default_factory=dict)  # what they were verified with
    repeats: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # topic -> {count, since}

    def to_session(self, profile: Mapping[str, Any]) -> dict[str, Any]:
        """The call's view of its memory, kept in ``Session.memory`` (plain JSON)."""
        callbacks = profile.get("callbacks")
        return {"known": self.known, "language": self.language, "repeats": {k: dict(v) for k, v in self.repeats.items()},
                "verified_slots": dict(self.verified_slots), "calls": [dict(c) for c in _calls(profile)][:3],
                "callbacks": [c for c in callbacks if isinstance(c, str)] if isinstance(callbacks, list) else []}


def _calls(profile: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    calls = profile.get("calls")
    return [c for c in calls if isinstance(c, Mapping)] if isinstance(calls, (list, tuple)) else []


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _moment(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def recall(settings: MemorySettings, profile: Mapping[str, Any], at: datetime, flow: str) -> Recall:
    """What a call of ``flow`` starting at ``at`` may use of ``profile`` (as the records
    gave it: ``{"calls": [{at, flow, topic, slots, outcome, language}, ...] newest first,
    "language", "verified_at", "verified_slots"}``). Entries from the future or past the
    retention period are ignored; a topic the flow no longer offers is not a shortcut."""
    oldest = at - timedelta(days=settings.retention_days)
    calls = [c for c in _calls(profile) if (m := _moment(c.get("at"))) is not None and oldest <= m <= at]
    known = bool(calls) or profile.get("known") is True
    shortcut, said, slots = None, "", {}
    last = next((c for c in calls if c.get("flow") == flow and _text(c.get("topic"))), None)
    if last is not None and _text(last.get("topic")) in settings.topics:
        shortcut = settings.topics[_text(last.get("topic"))]
        value = _text(_mapping(last.get("slots")).get(shortcut.slot)) if shortcut.slot else ""
        if shortcut.slot and not value:
            shortcut = Shortcut(shortcut.topic, "", "")  # the slot was never given: the topic's own start
        slots = {shortcut.slot: value} if value else {}
        said = f"{shortcut.topic}, {value}" if value else shortcut.topic
    verified_at = _moment(profile.get("verified_at"))
    verified = bool(settings.verified_minutes and verified_at is not None
                    and timedelta(0) <= at - verified_at <= timedelta(minutes=settings.verified_minutes))
    kept = {k: v for k, v in _mapping(profile.get("verified_slots")).items() if k in settings.remember and _text(v)}
    window = at - timedelta(hours=settings.repeat_hours)
    repeats: dict[str, dict[str, Any]] = {}
    for c in calls:
        moment = _moment(c.get("at"))
        topic = _text(c.get("topic"))
        if topic and moment is not None and moment >= window and c.get("flow") == flow:
            entry = repeats.setdefault(topic, {"count": 0, "since": moment.isoformat()})
            entry["count"] += 1
            entry["since"] = min(entry["since"], moment.isoformat())
    language = _text(calls[0].get("language")) if calls else ""
    return Recall(known, language, shortcut, said, slots, verified, kept if verified else {}, repeats)


def ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}.get(n, f"{n}th")


def repeat_text(topic: str, earlier: int, since: str, now: str) -> str:
    """"third call about order status in 2 hours": this call and ``earlier`` ones about
    ``topic`` since ``since`` (ISO), counted at ``now`` (ISO)."""
    first, last = _moment(since), _moment(now)
    span = ""
    if first is not None and last is not None:
        minutes = max(int((last - first).total_seconds() // 60), 1)
        if minutes < 120:
            span = f" in {minutes} minute{'s' if minutes != 1 else ''}"
        elif minutes < 48 * 60:
            span = f" in {int(minutes / 60 + 0.5)} hours"
        else:
            span = f" in {int(minutes / 1440 + 0.5)} days"
    return f"{ordinal(earlier + 1)} call about {topic}{span}"


def remembered(remember: tuple[str, ...] | list[str], secrets: frozenset[str], slots: Mapping[str, str], *, topic: str,
               outcome: str, language: str, verified: bool, callback_due: str = "") -> dict[str, Any]:
    """What one finished call adds to the caller's profile: its topic, the slots the flow
    marks safe to remember (never a secret one), how it ended, the language, whether the
    caller was verified (with the remembered slots they were verified with) and an open
    callback promise."""
    kept = {k: str(v) for k, v in slots.items() if k in remember and k not in secrets and v}
    return {"topic": topic, "slots": kept, "outcome": outcome, "language": language, "verified": verified,
            "callback_due": callback_due}
