"""The flow language's keys for the way to a person: max_hold, operator.after_hours, a
menu's other: and the * and # keys."""
from __future__ import annotations

from ivr.flows.loader import load_text

BASE = """
flow: keys
operator: {to: desk%s}
%s
start: main
nodes:
  main:
    menu:
      prompt: "Press 1, star or pound."
      options:
        - {keys: "1", go: desk}
        - {keys: "*", go: desk, label: star}
        - {keys: "#", go: main, label: again}
%s
  desk:
    transfer: {to: [client:ann]}
  message:
    voicemail: {prompt: "Leave a message.", max_length: 60}
  greeting:
    say: "Hello."
    go: main
"""


def load(operator: str = "", top: str = "", menu: str = ""):
    return load_text(BASE % (operator, top, menu), "keys.yaml")


def messages(problems) -> list[str]:
    return [p.message for p in problems if p.severity == "error"]


def test_the_new_keys_load():
    flow, problems = load(", after_hours: message", "max_hold: 240", "      other: greeting")
    assert flow is not None, messages(problems)
    assert flow.max_hold == 240 and flow.operator.after_hours == "message"
    assert flow.nodes["main"].other == "greeting"
    assert [o.keys for o in flow.nodes["main"].options] == ["1", "*", "#"]


def test_max_hold_has_a_default_and_bounds():
    flow, problems = load(", after_hours: message", "", "      other: greeting")
    assert flow is not None and flow.max_hold == 300, messages(problems)
    flow, problems = load(", after_hours: message", "max_hold: 5", "      other: greeting")
    assert flow is None and any("max_hold" in m for m in messages(problems))


def test_operator_after_hours_must_be_a_message_or_a_callback():
    flow, problems = load(", after_hours: greeting")
    assert flow is None
    assert any("operator.after_hours 'greeting' is a say, not a voicemail or callback" in m for m in messages(problems))


def test_a_misspelt_other_is_caught_with_a_suggestion():
    flow, problems = load(menu="      other: greting")
    assert flow is None and any("greting" in m for m in messages(problems))
    assert any("greeting" in (p.hint or "") for p in problems)
