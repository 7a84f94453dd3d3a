"""Caller memory in the engine: a returning caller is greeted, a new one hears the
notice, the last topic is offered as a shortcut, a recent verification counts again.

Pure like the rest of the engine: the profile comes in ``CallStarted.memory`` (the
shell read it), the time from the event. ``ivr.model.memory`` says what a profile means;
this module decides what the caller hears.

Rules of this file:
* A call has memory only when its flow opts in (``memory:``), the number is not
  withheld and the shell handed a profile (``{}`` for a caller the line does not know
  yet: they hear the notice). None (records slow or down) is a call without memory:
  no notice, no welcome, nothing asked again.
* ``Session.memory`` keeps the profile as it came and what this flow makes of it; a
  flow the call switches to (the caller's language) greets them in turn, once.
* A shortcut is offered at the start menu's own prompt: 1 or yes takes it, 2 or no
  hears the menu, anything else is the menu's answer (a caller who says "billing" is
  not asked twice). Verification the flow demands still applies: the shortcut only
  fills the remembered slot; only a verification within ``verified_minutes`` counts,
  and only while the caller gives the same remembered slots it was made with.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ivr.flows.nodes.base import Heard
from ivr.model.actions import Listen, Speak
from ivr.model.flow import fill_template
from ivr.model.memory import is_withheld, recall
from ivr.model.session import Turn
from ivr.understanding.text import YES_NO_WORDS, yes_no

from .call import Call

__all__ = ["greet", "offer_again", "shortcut_answer", "chose", "spaced"]


def greet(call: Call, profile: Mapping[str, Any] | None, at_start: bool, open_line: bool = True) -> bool:
    """What the caller's memory changes at the start of ``call.flow``; True when the
    caller has been placed (a language's node, the start menu with the shortcut), False
    when the call goes on to its start node as usual (after the notice, if any).

    Outside the line's hours (``open_line`` False) the call goes to the flow's closed
    start whatever the profile says: a new caller still hears the notice and the call
    still counts in their profile, but no shortcut into menus that are closed is offered."""
    settings = call.flow.memory
    if settings is None or not isinstance(profile, Mapping) or is_withheld(call.session.caller):
        return False
    if call.session.memory.get("greeted") == call.flow.name:
        return False
    got = recall(settings, profile, call.at, call.flow.name)
    call.update(memory={"profile": dict(profile), "greeted": call.flow.name, **got.to_session(profile),
                        "noticed": bool(call.session.memory.get("noticed")), "remember": list(settings.remember),
                        "retention_days": settings.retention_days})
    if got.verified and not call.session.verified:
        call.update(verified=True, slots={**call.session.slots, **got.verified_slots},
                    memory={**call.session.memory, "verified_before": True})
    language = call.language
    if not open_line:
        if not got.known and not call.session.memory.get("noticed"):
            call.speak(settings.notice)
            call.update(memory={**call.session.memory, "noticed": True})
        return False
    if at_start and got.language and got.language != language and got.language in settings.languages:
        call.update(memory={**call.session.memory, "greeted": ""})  # the flow of that language greets them
        call.goto(settings.languages[got.language])
        return True
    if not got.known:
        if not call.session.memory.get("noticed"):
            call.speak(settings.notice)
            call.update(memory={**call.session.memory, "noticed": True})
        return False
    if got.shortcut is None or not got.shortcut.go or not settings.welcome:
        return False
    call.goto(call.flow.start)
    listen = call.actions[-1] if call.actions else None
    if not isinstance(listen, Listen) or call.session.node != call.flow.start:
        return True  # the start node is not a prompt: no place to offer the shortcut
    chosen = settings.welcome.for_language(language)
    said = got.said if not got.slots else f"{got.shortcut.topic}, {spaced(next(iter(got.slots.values())))}"
    welcome = Speak(text=fill_template(chosen.text, {"topic": said}), language=language, voice=call.flow.voice)
    yes_no_words = YES_NO_WORDS.get(language.split("-")[0], YES_NO_WORDS["en"])
    call.actions[-1] = replace(listen, prompts=(welcome,), phrases=tuple(dict.fromkeys((*listen.phrases,
                                                                                         *yes_no_words))))
    call.update(shortcut={"topic": got.shortcut.topic, "go": got.shortcut.go, "slots": dict(got.slots),
                          "welcome": welcome.text})
    return True


def offer_again(call: Call) -> None:
    """A duplicate or replayed request while the shortcut is on offer: the welcome again,
    not the menu (whose 1 would mean something else)."""
    offer = call.session.shortcut
    listen = call.actions[-1] if call.actions else None
    if offer and isinstance(listen, Listen) and offer.get("welcome"):
        welcome = Speak(text=str(offer["welcome"]), language=call.language, voice=call.flow.voice)
        words = YES_NO_WORDS.get(call.language.split("-")[0], YES_NO_WORDS["en"])
        call.actions[-1] = replace(listen, prompts=(welcome,), phrases=tuple(dict.fromkeys((*listen.phrases, *words))))


def spaced(value: str) -> str:
    """Digits said one by one ("1 2 3 4 5 6"), other values as they are."""
    return " ".join(value) if value.isdigit() else value


def shortcut_answer(call: Call, heard: Heard | None, turn: Turn) -> dict[str, Any] | None:
    """The caller's answer to the shortcut on offer: the shortcut when taken, ``{}``
    when declined (the menu is asked), None when the answer is the menu's to read."""
    offer = call.session.shortcut
    call.update(shortcut={})
    if heard is None or not heard.text:
        return None
    answer = {"1": True, "2": False}.get(heard.text.rstrip("#")) if heard.kind == "keys" else yes_no(heard.text)
    if answer is None:
        return None
    call.update(turns=(*call.session.turns, replace(turn, result="matched", intent=offer["topic"] if answer else "no")))
    return dict(offer) if answer else {}


def chose(call: Call, intent: str, slots: Mapping[str, str]) -> dict[str, Any]:
    """What a matched answer changes in the call's memory: the call's topic (a topic the
    flow remembers), and a remembered verification lost when the caller gives another
    value for a slot it was made with."""
    changes: dict[str, Any] = {}
    settings = call.flow.memory
    if settings is not None and intent in settings.topics:
        changes["topic"] = intent
    bound = call.session.memory.get("verified_slots") or {}
    if bound and any(name in bound and bound[name] != value for name, value in slots.items()):
        changes["verified"] = False
        changes["memory"] = {**call.session.memory, "verified_slots": {}}
    return changes
