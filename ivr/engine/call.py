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

from ivr.model.actions import Action, Listen, Speak
from ivr.model.flow import Flow, Prompt, fill_template
from ivr.model.session import Session

__all__ = ["Call"]


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
        """Hand the caller to a person: the escalation target, else the operator's."""
        self.update(transfer_reason=reason)
        self.goto(to or self.flow.escalation.to or self.flow.operator.to)
