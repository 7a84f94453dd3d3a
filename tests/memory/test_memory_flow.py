"""The flow's ``memory:`` block: what ``ivr validate`` says about it (every mistake with
its line and column and a hint), and the engine with any profile the records might hand
it (a property test: a profile of any shape never crashes a call, never leaves the caller
without a prompt, and a withheld number never hears the notice or a welcome)."""
from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr import engine
from ivr.flows.loader import load_text
from ivr.model.actions import WAITING_ACTIONS, Listen, Speak
from ivr.model.events import CallStarted, DigitsPressed
from ivr.model.memory import WITHHELD

sys.path.insert(0, str(Path(__file__).resolve().parent))

FLOW = """flow: remembering
memory:
  retention_days: 30
  verified_minutes: 20
  repeat_hours: 2
  remember: [order_id]
  notice: "We remember your calls."
  welcome: "Welcome back. About {topic} again? Press 1 or say yes, or press 2 or say no."
operator: {to: desk}
start: main
nodes:
  main:
    menu:
      prompt: "Press 1 for order status, 2 for store hours."
      options:
        - {keys: "1", say: [order status], go: order, label: order status}
        - {keys: "2", say: [store hours], go: hours_info, label: store hours}
  hours_info:
    say: "We're open from 9 to 5."
    go: bye
  order:
    collect:
      prompt: "Your six digit order number?"
      slot: {name: order_id, kind: digits, length: 6}
      go: pin
  pin:
    collect:
      prompt: "Your PIN?"
      slot: {name: pin, kind: digits, length: 4, secret: true}
      go: told
  told:
    say: "Order {order_id} has shipped."
    go: bye
  bye:
    hangup: "Goodbye."
  desk:
    transfer: {to: [queue:support], fallback: message}
  message:
    voicemail: true
"""
AT = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def problems_of(text: str) -> list[str]:
    _, problems = load_text(text, "remembering.yaml")
    return [f"{p.where.line}:{p.where.col}: {p.message} | {p.hint}" for p in problems if p.severity == "error"]


def test_the_example_flow_loads_with_its_shortcuts_resolved():
    flow, problems = load_text(FLOW, "remembering.yaml")
    assert flow is not None, problems
    memory = flow.memory
    assert memory is not None and memory.remember == ("order_id",)
    assert set(memory.topics) == {"order status", "store hours"}  # the start menu's options
    order = memory.topics["order status"]
    assert (order.go, order.slot) == ("pin", "order_id")  # past the question whose answer is remembered
    assert (memory.topics["store hours"].go, memory.topics["store hours"].slot) == ("hours_info", "")


def test_a_secret_slot_is_refused_where_it_is_written():
    found = problems_of(FLOW.replace("remember: [order_id]", "remember: [order_id, pin]"))
    assert found == ["6:24: slot 'pin' is secret: the caller memory never keeps it | remember lookup keys such as "
                     "an order number, never a PIN or a card number"], found


def test_an_unknown_slot_topic_or_field_each_get_a_hint():
    text = (FLOW.replace("remember: [order_id]", "remember: [order_idd]")
                .replace("  repeat_hours: 2\n", "  repeat_hours: 2\n  topics: [order statuss]\n")
                .replace("About {topic} again?", "About {order_id} again?"))
    found = problems_of(text)
    assert any(f.startswith("7:14: the caller memory remembers slot 'order_idd', which no node fills")
               and "did you mean 'order_id'" in f for f in found), found
    assert any(f.startswith("6:12: topic 'order statuss' of the caller memory is not the label of a menu option")
               and "order status" in f for f in found), found
    assert any("the memory's welcome names '{order_id}'" in f and f.startswith("9:33:") for f in found), found


def test_a_missing_welcome_a_misspelt_key_and_a_language_without_its_node():
    text = (FLOW.replace("  retention_days: 30\n", "  retention: 30\n  languages: {ko-KR: korean}\n")
                .replace('  welcome: "Welcome back. About {topic} again? Press 1 or say yes, or press 2 or say no."\n',
                         ""))
    found = problems_of(text)
    assert any("unknown key 'retention' in the caller memory" in f and "retention_days" in f for f in found), found
    assert any("'welcome'" in f for f in found), found
    assert any("'korean' is not a node of this flow" in f for f in found), found


def test_bounds_are_checked():
    found = problems_of(FLOW.replace("retention_days: 30", "retention_days: 0")
                        .replace("verified_minutes: 20", "verified_minutes: -5"))
    assert any(f.startswith("3:19:") for f in found) and any(f.startswith("4:21:") for f in found), found


FLOW_LOADED, _ = load_text(FLOW, "remembering.yaml")
JUNK = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=12)
MOMENT = st.integers(-4000, 200).map(lambda minutes: (AT + timedelta(minutes=minutes)).isoformat())
CALL = st.fixed_dictionaries({}, optional={
    "at": MOMENT | JUNK, "flow": st.sampled_from(["remembering", "other"]) | JUNK,
    "topic": st.sampled_from(["order status", "store hours", "billing", ""]) | JUNK,
    "slots": st.fixed_dictionaries({}, optional={"order_id": st.sampled_from(["123456", "", "12"]),
                                                 "pin": st.just("1234")}) | JUNK,
    "outcome": st.text(max_size=8), "language": st.sampled_from(["en-US", "ko-KR", ""]) | JUNK})
PROFILE = st.fixed_dictionaries({}, optional={
    "known": st.booleans() | JUNK, "language": st.sampled_from(["en-US", "ko-KR"]) | JUNK,
    "verified_at": MOMENT | JUNK, "verified_slots": st.dictionaries(st.sampled_from(["order_id", "pin"]),
                                                                    st.text(max_size=6)) | JUNK,
    "calls": st.lists(CALL | JUNK, max_size=5) | JUNK})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profile=PROFILE, number=st.sampled_from(["+15551230000", *sorted(WITHHELD), "Anonymous", None]),
       keys=st.lists(st.sampled_from(["1", "2", "0", "9", "123456"]), max_size=3))
def test_any_profile_gives_a_call_that_waits_for_the_caller(profile, number, keys):
    assert FLOW_LOADED is not None
    session, actions = engine.step(FLOW_LOADED, None, CallStarted(AT, "CA1", number or "", "+15005550006",
                                                                  memory=profile))
    assert actions and isinstance(actions[-1], WAITING_ACTIONS)
    said = " ".join(a.text for a in actions if isinstance(a, Speak)) + " ".join(
        p.text for a in actions if isinstance(a, Listen) for p in a.prompts)
    if number in WITHHELD or number is None or number == "Anonymous":
        assert "remember" not in said and "Welcome back" not in said and not session.memory
    assert "1234" not in said  # a PIN is never said back, whatever the profile holds
    for k in keys:
        if session.phase != "listening":
            break
        session, actions = engine.step(FLOW_LOADED, session, DigitsPressed(AT + timedelta(seconds=5), k))
        assert actions and (isinstance(actions[-1], WAITING_ACTIONS) or session.phase == "ended")
    assert session.slots.get("pin") in (None, "••••", "1234") and "pin" not in (session.memory.get("verified_slots") or {})
