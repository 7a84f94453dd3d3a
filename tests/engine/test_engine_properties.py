"""Property tests over every flow in call_flows/: random callers never break the engine,
are never left without a next step, always reach a person when they ask, and never loop
forever when they are silent or make no sense.

The caller is random but plays by the phone's rules: each step it sends an event the
current waiting action can produce (keys, words, silence at a prompt; a lookup answer;
a transfer outcome; a recording; a hang-up at any time). Now and then it also sends a
stray event, which must be refused with ``UnexpectedEvent`` and answered by ``resume``.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from engine_support import FLOWS_DIR, T0, check_waiting
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.engine import engine
from ivr.engine.call import after_hours_instead
from ivr.flows.library import FlowLibrary
from ivr.flows.nodes.collect import CollectNode
from ivr.flows.nodes.lookup import LookupNode
from ivr.flows.nodes.menu import MenuNode
from ivr.model.actions import DataLookup, Hangup, Listen, Record, SwitchFlow, Transfer
from ivr.model.events import (
    CallEnded,
    CallStarted,
    DigitsPressed,
    LookupResult,
    NoInput,
    RecordingDone,
    SpeechHeard,
    TransferResult,
)

FLOW_FILES = sorted([*FLOWS_DIR.glob("*.yaml"), *FLOWS_DIR.glob("*.yml")])
RANDOM_WORDS = ["yes", "no", "um", "what", "the", "order", "one", "two", "five", "double", "please",
                "ridiculous", "hello", "bill", "march", "fourth", "representative", "nothing", "", "zzz"]
TRANSFER_STATUSES = ["answered", "busy", "no-answer", "declined", "failed", "canceled"]


@pytest.fixture(scope="module")
def library() -> FlowLibrary:
    lib = FlowLibrary(FLOWS_DIR, FLOWS_DIR.parent / "audio")
    problems = lib.reload()
    assert not [p for p in problems if p.severity == "error"], problems
    return lib


def test_there_are_flows_to_check():
    assert FLOW_FILES, "call_flows/ has no flow files"


def flow_names(library: FlowLibrary) -> list[str]:
    return sorted(library.flows)


def vocabulary(flow) -> list[str]:
    """The flow's own phrases and keys, so random callers often say something that works."""
    words: list[str] = list(flow.operator.phrases)
    for node in flow.nodes.values():
        if isinstance(node, MenuNode):
            words.extend(node.phrases)
    return words


def keys_of(flow) -> list[str]:
    keys = [flow.operator.digit] if flow.operator.digit else []
    for node in flow.nodes.values():
        if isinstance(node, MenuNode):
            keys.extend(o.keys for o in node.options if o.keys)
    return keys


def table_rows(flow) -> list[dict]:
    rows = [{}]
    for node in flow.nodes.values():
        if isinstance(node, LookupNode):
            rows.extend(dict(r) for r in node.rows.values())
    return rows


class Line:
    """One call across flows: the engine plus the shell's flow switching."""

    def __init__(self, library: FlowLibrary, name: str, start=T0):
        self.library = library
        self.flow = library.current(name)
        self.session = None
        self.actions: list = []
        self.now = start

    @property
    def live(self) -> bool:
        return self.session is not None and self.session.phase not in ("ended",)

    def send(self, event):
        self.session, self.actions = engine.step(self.flow, self.session, event)
        self._settle()
        self.now += timedelta(seconds=4)

    def _settle(self):
        check_waiting(self.session, self.actions)
        for _ in range(10):
            if not isinstance(self.actions[-1:] and self.actions[-1], SwitchFlow):
                return
            self.flow = self.library.current(self.actions[-1].flow)
            self.session, self.actions = engine.enter_flow(self.flow, self.session, self.now)
            check_waiting(self.session, self.actions)
        raise AssertionError("flow switches went round in circles")

    def fork(self, event):
        """What ``event`` would do now, without doing it."""
        session, actions = engine.step(self.flow, self.session, event)
        check_waiting(session, actions)
        return session, actions

    @property
    def listening(self) -> bool:
        return bool(self.actions) and isinstance(self.actions[-1], Listen) and self.session.phase in (
            "listening", "confirming", "offering")


def listening_event(data, line: Line):
    flow = line.flow
    kind = data.draw(st.sampled_from(["key", "key", "phrase", "phrase", "words", "silence", "digits_said"]))
    if kind == "key":
        keys = data.draw(st.one_of(st.sampled_from(keys_of(flow) or ["1"]),
                                   st.text(alphabet="0123456789*#", min_size=1, max_size=9)))
        return DigitsPressed(line.now, keys)
    if kind == "phrase":
        return SpeechHeard(line.now, data.draw(st.sampled_from(vocabulary(flow))),
                           confidence=data.draw(st.floats(0.1, 1.0)))
    if kind == "words":
        said = " ".join(data.draw(st.lists(st.sampled_from(RANDOM_WORDS), min_size=1, max_size=6)))
        return SpeechHeard(line.now, said, confidence=data.draw(st.floats(0.1, 1.0)),
                           loudness_dbfs=data.draw(st.none() | st.floats(-60, -5)))
    if kind == "digits_said":
        digits = data.draw(st.text(alphabet="0123456789", min_size=1, max_size=10))
        names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
        return SpeechHeard(line.now, " ".join(names[int(d)] for d in digits))
    return NoInput(line.now)


def next_event(data, line: Line):
    if data.draw(st.integers(0, 40)) == 0:
        return CallEnded(line.now)
    last = line.actions[-1]
    if isinstance(last, Listen):
        return listening_event(data, line)
    if isinstance(last, DataLookup):
        outcome = data.draw(st.sampled_from(["found", "not_found", "error"]))
        row = data.draw(st.sampled_from(table_rows(line.flow))) if outcome == "found" else {}
        if outcome == "found":
            row = {**row, **data.draw(st.dictionaries(st.sampled_from(["status", "eta", "balance"]),
                                                      st.text(max_size=8) | st.integers(-5, 100), max_size=2))}
        return LookupResult(line.now, outcome, row, "HTTP 500" if outcome == "error" else "")
    if isinstance(last, Transfer) or line.session.phase == "connected":
        return TransferResult(line.now, data.draw(st.sampled_from(TRANSFER_STATUSES + ["completed"])), "")
    if isinstance(last, Record):
        return RecordingDone(line.now, data.draw(st.sampled_from(["", "https://example.invalid/r.wav"])), 10.0)
    return CallEnded(line.now)


def any_event(data, line: Line):
    """A stray event of any kind, whatever the call is waiting for."""
    return data.draw(st.sampled_from([
        DigitsPressed(line.now, "1"), SpeechHeard(line.now, "billing"), NoInput(line.now),
        LookupResult(line.now, "found", {}), TransferResult(line.now, "busy", ""), RecordingDone(line.now, "", 0.0),
        CallStarted(line.now, "CAagain", "+15551230000", ""),
    ]))


def operator_events(line: Line):
    events = []
    if line.flow.operator.digit:
        events.append(DigitsPressed(line.now, line.flow.operator.digit))
    events.extend(SpeechHeard(line.now, p) for p in line.flow.operator.phrases)
    if "agent" in line.flow.operator.phrases:
        events.append(SpeechHeard(line.now, "uh agent please"))
    return events


def check_operator_escape(line: Line):
    """From this prompt, the operator key and every operator phrase reach a person at
    once; while the line is closed, the message or callback promise that stands in."""
    node = line.flow.nodes[line.session.node]
    if getattr(node, "operator_off", ""):
        return
    closed = after_hours_instead(line.flow, line.flow.operator.to, line.now)
    for event in operator_events(line):
        session, actions = line.fork(event)
        if closed:
            assert session.node == closed and (isinstance(actions[-1], Record) or session.phase == "promising"), (
                f"{line.flow.name}: {event} at '{line.session.node}' after hours gave {actions[-1]}")
            continue
        assert isinstance(actions[-1], Transfer), (
            f"{line.flow.name}: {event} at '{line.session.node}' ({line.session.phase}) gave {actions[-1]}")


def check_gives_up_on_a_lost_caller(line: Line, how: str):
    """A caller who is silent (or talks nonsense) forever reaches a person, or is told
    goodbye, within the retry bound."""
    flow = line.flow
    retry = max(flow.retry.no_input, flow.retry.no_match)
    bound = (retry + 1) * len(flow.nodes)
    session, actions = line.session, line.actions
    for _ in range(bound):
        if isinstance(actions[-1], (Transfer, Hangup, Record)):
            return
        assert isinstance(actions[-1], Listen), actions[-1]
        event = NoInput(line.now) if how == "silence" else SpeechHeard(line.now, "zzz blorp quux")
        session, actions = engine.step(flow, session, event)
        check_waiting(session, actions)
    assert isinstance(actions[-1], (Transfer, Hangup, Record)), (
        f"{flow.name}: a caller giving {how} is still at '{session.node}' after {bound} prompts")


@pytest.mark.parametrize("name", ["acme-support", "acme-support-ko"] if FLOW_FILES else [])
def test_known_demo_flows_are_loaded(library, name):
    assert name in library.flows


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_random_callers_never_break_a_flow(library, data):
    name = data.draw(st.sampled_from(flow_names(library)), label="flow")
    start = T0 + timedelta(minutes=data.draw(st.integers(0, 7 * 24 * 60), label="minutes after T0"))
    line = Line(library, name, start)
    line.send(CallStarted(line.now, "CAprop", data.draw(st.sampled_from(["+15551230000", "+442071234567", ""])),
                          ""))
    for _ in range(data.draw(st.integers(1, 40), label="steps")):
        if not line.live or not line.actions:
            break
        if line.listening:
            check_operator_escape(line)
        if data.draw(st.integers(0, 12)) == 0:
            stray = any_event(data, line)
            try:
                line.send(stray)
            except engine.UnexpectedEvent as exc:
                assert exc.phase == line.session.phase
                again, actions = engine.resume(line.flow, line.session, line.now)
                assert again == line.session
                check_waiting(again, actions)
                if actions and not isinstance(line.actions[-1], SwitchFlow):
                    assert type(actions[-1]) is type(line.actions[-1])
            continue
        line.send(next_event(data, line))
    if line.live and line.listening:
        check_gives_up_on_a_lost_caller(line, data.draw(st.sampled_from(["silence", "nonsense"])))


@pytest.mark.parametrize("how", ["silence", "nonsense"])
def test_a_lost_caller_at_every_prompt_of_every_flow_reaches_a_person(library, how):
    """Deterministic companion of the random test: start each call, walk to every prompt
    reachable by the keys of the menus, and stay lost there."""
    for name in flow_names(library):
        flow = library.current(name)
        line = Line(library, name)
        line.send(CallStarted(line.now, "CAlost", "+15551230000", ""))
        check_gives_up_on_a_lost_caller(line, how)
        menu = flow.nodes[line.session.node]
        if not isinstance(menu, MenuNode):
            continue
        for option in menu.options:
            if not option.keys:
                continue
            branch = Line(library, name)
            branch.send(CallStarted(branch.now, "CAlost", "+15551230000", ""))
            branch.send(DigitsPressed(branch.now, option.keys))
            if branch.listening:
                check_operator_escape(branch)
                check_gives_up_on_a_lost_caller(branch, how)


def test_every_listening_node_of_every_flow_has_the_operator_escape(library):
    """The operator escape at every prompt, reached by putting the call there directly."""
    from ivr.model.session import Session

    for name in flow_names(library):
        flow = library.current(name)
        for node in flow.nodes.values():
            if not node.listens:
                continue
            session = Session(call_sid="CAop", flow=name, flow_version=flow.version, started_at=T0.isoformat(),
                              node=node.id, phase="listening", path=(node.id,))
            line = Line(library, name)
            line.session, line.actions = engine.resume(flow, session, T0)
            assert isinstance(line.actions[-1], Listen)
            check_operator_escape(line)
            if isinstance(node, CollectNode) and node.slot.kind == "digits":
                value = "1" * node.slot.min_length
                confirming, actions = engine.step(flow, session, DigitsPressed(T0, value))
                if confirming.phase == "confirming":
                    line.session, line.actions = confirming, actions
                    check_operator_escape(line)
