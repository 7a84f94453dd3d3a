"""Calls to the demo line for the call-record tests, driven through the real engine.

    call = Caller(flow, "CA01", at=T0)
    call.start(); call.say("where is my order"); call.press("123456"); call.say("that's all")
    record = call.finish()      # the durable record, built as the line builds it at call end

Each event goes through ``ivr.engine.step`` and into the call's event log as the line
writes it (``ivr.web.line.event_record``, masked at a secret prompt). The clock moves
``pace`` seconds per event.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ivr.engine import rescue, step
from ivr.flows.loader import load_flow, load_text
from ivr.model.actions import Transfer
from ivr.model.events import (CallEnded, CallStarted, DigitsPressed, Event, NoInput, RecordingDone, SpeechHeard,
                              TransferResult)
from ivr.model.flow import Flow
from ivr.model.session import Session
from ivr.records import CallRecord, build_record
from ivr.web.line import answers_secret, event_record

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "call_flows" / "acme-support.yaml"
# Tuesday 24 November 2026, 10:00 in New York: the demo line is open
T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
LINE = "+15005550006"


def demo_flow() -> Flow:
    return load_flow(DEMO)


def calm_flow() -> Flow:
    """The demo line with a detector that waits longer (threshold 0.95): its retry limit
    hands a silent caller over before the detector does."""
    text = DEMO.read_text(encoding="utf-8")
    assert "escalation: {threshold: 0.7, mode: transfer}" in text
    flow, problems = load_text(text.replace("threshold: 0.7,", "threshold: 0.95,"), str(DEMO))
    assert flow is not None, problems
    return flow


class Caller:
    """One call to a flow: what the caller does, and the record the call leaves."""

    def __init__(self, flow: Flow, sid: str, at: datetime = T0, caller: str = "+15551230000", pace: float = 4.0):
        self.flow, self.sid, self.now, self.caller, self.pace = flow, sid, at, caller, pace
        self.session: Session | None = None
        self.actions: list[Any] = []
        self.events: list[dict[str, Any]] = []

    def send(self, event: Event) -> None:
        secret = self.session is not None and answers_secret(self.flow, self.session)
        self.session, self.actions = step(self.flow, self.session, event)
        self.events.append(event_record(event, secret))
        self.now += timedelta(seconds=self.pace)

    def start(self) -> Caller:
        self.send(CallStarted(self.now, self.sid, self.caller, LINE))
        return self

    def press(self, keys: str) -> None:
        self.send(DigitsPressed(self.now, keys))

    def say(self, text: str) -> None:
        self.send(SpeechHeard(self.now, text, 0.9))

    def silence(self) -> None:
        self.send(NoInput(self.now))

    def agent(self, status: str) -> None:
        """The agent being rung answers, passes, or never picks up (a Twilio status)."""
        target = self.actions[-1].target if self.actions and isinstance(self.actions[-1], Transfer) else ""
        self.send(TransferResult(self.now, status, target))

    def leave_message(self, seconds: float = 20.0) -> None:
        self.send(RecordingDone(self.now, "https://recordings.example.invalid/r.wav", seconds))

    def breaks(self) -> None:
        """Something failed in the shell at this step: the line rescues the call."""
        event = DigitsPressed(self.now, "1")
        assert self.session is not None
        self.session, self.actions = rescue(self.flow, self.session, event)
        self.events.append(event_record(event))
        self.now += timedelta(seconds=self.pace)

    def hang_up(self) -> None:
        self.send(CallEnded(self.now))

    @property
    def node(self) -> str:
        assert self.session is not None
        return self.session.node

    def finish(self) -> CallRecord:
        """The call is over (Twilio reports it completed; the caller hangs up if it was
        still live): its durable record, built as the line builds it."""
        assert self.session is not None
        self.hang_up()
        assert self.session.phase == "ended"
        return build_record(self.flow, self.session, self.events, datetime.fromisoformat(self.events[-1]["at"]))


DAY2 = T0 + timedelta(days=1)


def a_day_of_calls() -> list[CallRecord]:
    """Ten calls over two days, each a different way through the demo line (see
    test_database.py for the figures they make)."""
    flow, calm = demo_flow(), calm_flow()
    done: list[CallRecord] = []

    def call(sid: str, caller: str, at: datetime, f: Flow = flow) -> Caller:
        return Caller(f, sid, at=at, caller=caller).start()

    c = call("CA01", "+15551230001", T0)  # order status by voice
    c.say("where is my order"); c.say("one two three four five six"); c.say("that's all")  # noqa: E702
    done.append(c.finish())
    c = call("CA02", "+15551230002", T0 + timedelta(minutes=10))  # store hours by key
    c.press("3"); c.press("2")  # noqa: E702
    done.append(c.finish())
    c = call("CA03", "+15551230003", T0 + timedelta(minutes=20))  # balance after account and PIN
    c.press("2"); c.press("87654321"); c.press("9999"); c.press("2")  # noqa: E702
    done.append(c.finish())
    c = call("CA04", "+15551230004", T0 + timedelta(minutes=30))  # 0 for a person: alice passes, the queue answers
    c.press("0"); c.agent("declined"); c.agent("no-answer"); c.agent("answered")  # noqa: E702
    done.append(c.finish())
    c = call("CA05", "+15551230005", T0 + timedelta(minutes=40))  # upset; hangs up on hold
    c.say("this is ridiculous, I already told you, this is useless")
    done.append(c.finish())
    c = call("CA06", "+15551230001", T0 + timedelta(minutes=50))  # hangs up at the welcome
    done.append(c.finish())
    c = call("CA07", "+15551230006", T0 + timedelta(minutes=55))  # a short order number, then hangs up
    c.press("1"); c.press("12")  # noqa: E702
    done.append(c.finish())
    c = call("CA08", "+15551230007", DAY2)  # order not found twice; nobody free; a message
    c.press("1"); c.press("111111"); c.press("222222")  # noqa: E702
    c.agent("no-answer"); c.agent("busy"); c.agent("no-answer"); c.leave_message()  # noqa: E702
    done.append(c.finish())
    c = call("CA09", "+15551230008", DAY2 + timedelta(minutes=10), calm)  # silent past the retry limit
    c.silence(); c.silence(); c.silence(); c.agent("answered")  # noqa: E702
    done.append(c.finish())
    c = call("CA10", "+15551230001", DAY2 + timedelta(minutes=20))  # a technical problem
    c.press("1"); c.breaks(); c.agent("answered")  # noqa: E702
    done.append(c.finish())
    return done
