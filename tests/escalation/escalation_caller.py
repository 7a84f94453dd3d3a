"""A scripted caller for escalation tests: build a session turn by turn, then assess.

    call = Caller()
    call.at("main").say("billing", result="matched", intent="billing")
    call.at("billing_account").press("1234", result="invalid")
    assert "no_match" in call.fired()
"""
from __future__ import annotations

from ivr.model.session import Session, Turn
from ivr.escalation import Assessment, EscalationSettings, assess


class Caller:
    def __init__(self, settings: EscalationSettings | None = None, gap: float = 10.0):
        self.settings = settings or EscalationSettings()
        self.gap = gap
        self.session = Session(call_sid="CAtest", flow="demo", flow_version="1",
                               started_at="2026-01-01T00:00:00Z", node="main", path=("main",))

    def at(self, node: str) -> "Caller":
        """Move the call to ``node`` (appended to the path when it is a new visit)."""
        path = self.session.path
        if not path or path[-1] != node:
            path = path + (node,)
        self.session = self.session.evolve(node=node, path=path)
        return self

    def _add(self, **turn) -> "Caller":
        t = self.session.t + self.gap
        self.session = self.session.evolve(
            t=t, turns=self.session.turns + (Turn(t=t, node=self.session.node, **turn),))
        return self

    def say(self, text: str, result: str = "no_match", intent: str = "", confidence: float = 0.9,
            loudness: float | None = None, duration: float | None = None) -> "Caller":
        return self._add(kind="speech", text=text, result=result, intent=intent,
                         confidence=confidence, loudness_dbfs=loudness, duration=duration)

    def press(self, keys: str, result: str = "matched", intent: str = "") -> "Caller":
        return self._add(kind="keys", text=keys, result=result, intent=intent)

    def silent(self) -> "Caller":
        return self._add(kind="silence", result="silence")

    def wait(self, seconds: float) -> "Caller":
        self.session = self.session.evolve(t=self.session.t + seconds)
        return self

    def assess(self) -> Assessment:
        return assess(self.settings, self.session)

    def fired(self) -> dict[str, float]:
        return {r.signal: r.weight for r in self.assess().reasons}

    def needs_person(self) -> bool:
        return self.assess().needs_person(self.settings.threshold)
