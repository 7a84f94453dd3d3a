"""The engine inside a shell: ``runtime.advance`` (lookups, flow switches, rescue),
version pinning across reloads, escalation paths, and the engine's purity."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from engine_support import REPO, T0, Phone, check_waiting, flow_from

from ivr import runtime
from ivr.flows.library import FlowLibrary
from ivr.model.actions import DataLookup, Listen, SwitchFlow, Transfer
from ivr.model.events import CallStarted, DigitsPressed, LookupResult, NoInput, SpeechHeard, TransferResult

MAIN_LINE = """
flow: main-line
numbers: ["+15005550006"]
operator: {digit: "0", to: desk}
start: main
nodes:
  main:
    menu:
      prompt: "For English press 1. Para espanol oprima 2."
      options:
        - {keys: "1", go: order}
        - {keys: "2", go: spanish}
  order:
    collect:
      prompt: "Order number?"
      slot: {name: order_id, kind: digits, length: 6}
      go: order_lookup
  order_lookup:
    lookup:
      http: {url: "https://orders.example.com/orders/{order_id}"}
      found: status
      not_found: desk
  status:
    hangup: "Order {order_id} is {lookup.status}. Goodbye."
  spanish:
    goto: spanish-line
  desk:
    transfer: {to: ["client:alice"]}
"""

SPANISH_LINE = """
flow: spanish-line
language: es-US
operator: {digit: "0", phrases: [agente], to: mesa}
start: inicio
nodes:
  inicio:
    menu:
      prompt: "Bienvenido. Oprima 1 para pedidos."
      options:
        - {keys: "1", go: adios}
  adios:
    hangup: "Adios."
  mesa:
    transfer: {to: ["client:maria"]}
"""


@pytest.fixture
def library(tmp_path):
    (tmp_path / "main-line.yaml").write_text(textwrap.dedent(MAIN_LINE), encoding="utf-8")
    (tmp_path / "spanish-line.yaml").write_text(textwrap.dedent(SPANISH_LINE), encoding="utf-8")
    lib = FlowLibrary(tmp_path)
    problems = lib.reload()
    assert not [p for p in problems if p.severity == "error"], problems
    return lib


class Shell:
    """A call driven through ``runtime.advance`` with a fake back end."""

    def __init__(self, library, answers=None):
        self.library = library
        self.session = None
        self.now = T0
        self.asked: list[DataLookup] = []
        self.answers = answers or {}

    def lookup(self, action: DataLookup, at) -> LookupResult:
        self.asked.append(action)
        outcome, data = self.answers.get(action.url, ("not_found", {}))
        return LookupResult(at, outcome, data)

    def send(self, event):
        out = runtime.advance(self.library, self.session, event, self.lookup)
        self.session, self.actions, self.flow = out.session, out.actions, out.flow
        check_waiting(self.session, self.actions)
        self.now += timedelta(seconds=3)
        return out

    def start(self, to="+15005550006"):
        return self.send(CallStarted(self.now, "CArt", "+15551230000", to))

    def press(self, keys):
        return self.send(DigitsPressed(self.now, keys))


def test_advance_performs_the_lookup_and_continues_in_the_same_step(library):
    shell = Shell(library, {"https://orders.example.com/orders/123456": ("found", {"status": "shipped"})})
    shell.start()
    shell.press("1")
    shell.press("123456")
    assert [a.url for a in shell.asked] == ["https://orders.example.com/orders/123456"]
    assert "Order 123456 is shipped. Goodbye." in [getattr(a, "text", "") for a in shell.actions]
    assert shell.session.phase == "ended"


def test_goto_switches_to_the_other_flow_and_repins_the_call(library):
    shell = Shell(library)
    shell.start()
    shell.press("2")
    assert not any(isinstance(a, SwitchFlow) for a in shell.actions)  # followed, not passed on
    assert isinstance(shell.actions[-1], Listen) and shell.actions[-1].node == "inicio"
    assert shell.actions[-1].language == "es-US"
    assert shell.session.flow == "spanish-line"
    assert shell.session.flow_version == library.current("spanish-line").version
    shell.press("1")
    assert shell.session.phase == "ended"
    assert "Adios." in [getattr(a, "text", "") for a in shell.actions]


def test_the_operator_of_the_new_flow_applies_after_a_goto(library):
    shell = Shell(library)
    shell.start()
    shell.press("2")
    shell.send(SpeechHeard(shell.now, "agente"))
    assert isinstance(shell.actions[-1], Transfer) and shell.actions[-1].target == "client:maria"


def test_a_goto_returns_switchflow_from_the_bare_engine(library):
    call = Phone(library.current("main-line"))
    call.start()
    call.press("2")
    assert call.actions == [SwitchFlow("spanish-line")]


def test_a_call_keeps_its_flow_version_after_the_file_changes(library, tmp_path):
    shell = Shell(library)
    shell.start()
    old_version = shell.session.flow_version
    changed = MAIN_LINE.replace("Order number?", "What is your order number?")
    (tmp_path / "main-line.yaml").write_text(textwrap.dedent(changed), encoding="utf-8")
    library.reload()
    assert library.current("main-line").version != old_version
    shell.press("1")  # the live call still hears the old wording
    assert [p.text for p in shell.actions[-1].prompts] == ["Order number?"]
    assert shell.session.flow_version == old_version
    fresh = Shell(library)
    fresh.start()
    fresh.press("1")  # a new call hears the new one
    assert [p.text for p in fresh.actions[-1].prompts] == ["What is your order number?"]


def test_a_broken_file_keeps_the_last_good_version_serving(library, tmp_path):
    good = library.current("main-line").version
    (tmp_path / "main-line.yaml").write_text("flow: main-line\nnodes: [", encoding="utf-8")
    problems = library.reload()
    assert any(p.severity == "error" for p in problems)
    assert library.current("main-line").version == good


def test_a_stray_event_through_advance_repeats_the_prompt(library):
    shell = Shell(library)
    shell.start()
    shell.press("1")
    before = shell.session
    shell.send(TransferResult(shell.now, "busy", "client:alice"))
    assert shell.session == before
    assert isinstance(shell.actions[-1], Listen) and shell.actions[-1].node == "order"


def test_a_bug_during_a_step_becomes_an_apology_and_a_person(library, monkeypatch):
    shell = Shell(library)
    shell.start()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("ivr.flows.nodes.collect.Collect.listen", broken)
    shell.press("1")
    assert isinstance(shell.actions[-1], Transfer) and shell.actions[-1].target == "client:alice"
    assert "something went wrong" in shell.actions[0].text


# --- escalation paths ----------------------------------------------------------------------

ESCALATION_FLOW = """
flow: escalation-test
numbers: ["+15005550006"]
operator: {digit: "0", phrases: [agent], to: desk}
retry: {no_input: 3, no_match: 3, then: desk}
escalation: {threshold: 0.7, mode: MODE, to: care}
start: main
nodes:
  main:
    menu:
      prompt: "Say order status or billing."
      options:
        - {keys: "1", say: [order status], go: main, label: order status}
        - {keys: "2", say: [billing], go: bye, label: billing}
  bye:
    hangup: "Goodbye."
  desk:
    transfer: {to: ["client:alice"]}
  care:
    transfer: {to: ["client:carla"]}
"""


def escalation_call(mode="transfer") -> Phone:
    call = Phone(flow_from(ESCALATION_FLOW.replace("MODE", mode)))
    call.start()
    return call


def test_a_human_topic_goes_to_the_escalation_target_at_once():
    call = escalation_call()
    call.say("I want to report fraud on my card")
    assert call.transferring_to == "client:carla"
    assert "fraud" in call.last.reason


def test_frustration_over_the_threshold_goes_to_a_person_before_the_retries_run_out():
    call = escalation_call()
    call.say("this is ridiculous, I already told you, this is useless")
    assert call.transferring_to == "client:carla"
    assert call.session.turns[-1].result == "no_match"  # the first miss: the retry policy (3) would wait
    assert call.last.context["escalation"]["score"] >= 0.7
    assert call.last.context["escalation"]["reasons"]


def test_offer_mode_asks_first_and_no_keeps_going():
    call = escalation_call("offer")
    call.say("purple elephants")
    call.say("purple elephants")  # no_match twice: over the threshold
    assert call.session.phase == "offering"
    assert call.heard("Would you like to speak to someone")
    call.say("no")
    assert call.listening_at == "main" and call.session.phase == "listening"
    assert call.heard("let's keep going")
    call.press("2")
    assert call.hung_up


@pytest.mark.parametrize("how, value", [("say", "yes please"), ("press", "1"), ("say", "agent"), ("press", "0")])
def test_offer_mode_yes_or_the_operator_escape_goes_to_a_person(how, value):
    call = escalation_call("offer")
    call.say("purple elephants")
    call.say("purple elephants")
    assert call.session.phase == "offering"
    getattr(call, how)(value)
    assert call.transferring_to == "client:carla"


def test_offer_mode_no_answer_twice_goes_to_a_person():
    call = escalation_call("offer")
    call.say("purple elephants")
    call.say("purple elephants")
    call.silence()
    assert call.session.phase == "offering"
    call.silence()
    assert call.transferring_to == "client:carla"
    assert "no answer to the offer" in call.last.reason


# --- purity ------------------------------------------------------------------------------

def test_the_engine_imports_no_web_telephony_store_or_http_library():
    code = textwrap.dedent("""
        import sys
        import ivr.engine.engine
        banned = ("flask", "twilio", "redis", "sqlite3", "_sqlite3", "requests", "websockets", "simple_websocket")
        print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in banned)))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "", f"the engine pulled in: {out.stdout.strip()}"


def test_the_purity_check_would_notice_a_banned_import():
    code = "import sys, ivr.engine.engine, sqlite3; print('sqlite3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "True"


def test_the_engine_reads_no_clock(monkeypatch):
    """Two runs of the same events at different wall-clock moments give the same result."""
    import datetime as real

    flow = flow_from(ESCALATION_FLOW.replace("MODE", "transfer"))
    first = Phone(flow)
    first.start()
    first.silence()

    class Frozen(real.datetime):
        @classmethod
        def now(cls, tz=None):
            raise AssertionError("the engine read the clock")

        @classmethod
        def utcnow(cls):
            raise AssertionError("the engine read the clock")

    monkeypatch.setattr("ivr.engine.engine.datetime", Frozen)
    second = Phone(flow)
    second.start()
    second.send(NoInput(second.now))
    assert second.session == first.session
