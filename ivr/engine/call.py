"""One engine step in progress: the session being built and the actions collected.

A ``Call`` lives only inside ``ivr.engine.engine.step``; node kinds receive it to say
things, listen, move on or hand the caller to a person. It satisfies the flow language's
``ivr.flows.nodes.base.Step`` protocol (node kinds never import the engine). It does no
I/O and reads no clock (``at`` comes from the event).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ivr.flows.nodes import KINDS
from ivr.model.actions import Action, Listen, Speak
from ivr.model.flow import Flow, Prompt, fill_template
from ivr.model.session import Session

__all__ = ["Call"]


def after_hours_instead(flow: Flow, target: str, at: datetime) -> str:
    """Where a caller sent to the people of ``target`` goes while the line is closed: the
    operator's ``after_hours`` node, else the transfer's own fallback when that is a
    message or a callback promise; '' when the line is open (or the flow says nothing)."""
    node = flow.nodes.get(target)
    if node is None or flow.hours is None or not KINDS.of(node).hands_over or flow.hours.status(at) == "open":
        return ""
    fallback = flow.nodes.get(getattr(node, "fallback", "") or "")
    if flow.operator.after_hours:
        return flow.operator.after_hours
    return fallback.id if fallback is not None and KINDS.of(fallback).stands_in else ""


class Call:
    """The session being built and the actions collected during one step."""

    def __init__(self, flow: Flow, session: Session, at: datetime, enter: Callable[[Call, str], None]):
        self.flow = flow
        self.session = session
        self.at = at
        self.actions: list[Action] = []
        self._enter = enter
        self.hops = 0  # nodes entered in this step: a guard against a loop with no prompt

    # --- state --------------------------------------------------------------------
    def update(self, **changes: Any) -> None:
        self.session = self.session.evolve(**changes)

    @property
    def language(self) -> str:
        return self.session.language or self.flow.language

    def message(self, key: str, **fields: object) -> str:
        """The line's own message ``key`` in the caller's language (``ivr.model.messages``)."""
        return self.flow.words(self.language).text(key, **fields)

    def fields(self) -> dict[str, str]:
        values = dict(self.session.slots)
        for key, value in self.session.lookup.items():
            values[f"lookup.{key}"] = "" if value is None else str(value)
        values["caller"] = self.session.caller
        return values

    def fill(self, text: str) -> str:
        return fill_template(text, self.fields())

    # --- what the caller hears --------------------------------------------------------
    def render(self, prompt: Prompt) -> Speak:
        chosen = prompt.for_language(self.language)
        return Speak(text=self.fill(chosen.text), audio=chosen.audio, language=self.language, voice=self.flow.voice)

    def speak(self, prompt: Prompt | str) -> None:
        if isinstance(prompt, str):
            self.actions.append(Speak(text=self.fill(prompt), language=self.language, voice=self.flow.voice))
        elif prompt:
            self.actions.append(self.render(prompt))

    def listen(self, node: str, prompts: Sequence[Prompt | str], phrases: Sequence[str] = (),
               max_digits: int | None = None, finish_on_key: str = "#", timeout: int | None = None) -> None:
        """Wait for the caller, playing ``prompts`` (interruptible). Operator phrases are
        added to what the recogniser should expect unless the node opted out."""
        spoken: list[Speak] = []
        for p in prompts:
            if isinstance(p, str):
                spoken.append(Speak(text=self.fill(p), language=self.language, voice=self.flow.voice))
            elif p:
                spoken.append(self.render(p))
        expected = tuple(dict.fromkeys((*phrases, *self.operator_phrases(node))))
        self.actions.append(Listen(node=node, prompts=tuple(spoken), phrases=expected, max_digits=max_digits,
                                   finish_on_key=finish_on_key, timeout=timeout or self.flow.timeout,
                                   language=self.language))

    def operator_phrases(self, node_id: str) -> tuple[str, ...]:
        node = self.flow.nodes.get(node_id)
        if node is not None and node.operator_off:
            return ()
        return self.flow.operator.phrases

    # --- moving on ----------------------------------------------------------------
    def goto(self, node_id: str) -> None:
        self._enter(self, node_id)

    def escalate(self, reason: str, to: str = "") -> None:
        """Hand the caller to a person: the escalation target, else the operator's. While
        the line is closed, a way to a person leads to the operator's ``after_hours``
        node (a message or a callback promise) instead: nobody is there to answer."""
        self.update(transfer_reason=reason)
        target = to or self.flow.escalation.to or self.flow.operator.to
        instead = self.after_hours_instead(target)
        if instead:
            self.speak(self.message("nobody_there"))
        self.goto(instead or target)

    def after_hours_instead(self, target: str) -> str:
        """The operator's ``after_hours`` node when ``target`` reaches people and the line
        is closed now; '' otherwise."""
        return after_hours_instead(self.flow, target, self.at)
