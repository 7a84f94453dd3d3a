"""The phases of a call and the ways a transfer attempt ends are closed vocabularies
(``ivr.model.phases``) that still read as the plain words shells and stores keep."""
from __future__ import annotations

import json

import pytest
from engine_support import Phone, flow_from
from test_engine_people import PEOPLE_FLOW

from ivr.engine import engine
from ivr.model.events import DigitsPressed, LookupResult, TransferResult
from ivr.model.phases import Phase, TransferStatus
from ivr.model.session import Session


@pytest.fixture
def flow():
    return flow_from(PEOPLE_FLOW)


def test_every_phase_equals_its_plain_word():
    assert [str(p) for p in Phase] == ["new", "listening", "confirming", "offering", "lookup", "transfer",
                                       "connected", "recording", "promising", "survey", "ended"]
    assert Phase.ENDED == "ended" and Phase.TRANSFER == "transfer" and Phase("offering") is Phase.OFFERING


def test_every_transfer_status_equals_twilios_word():
    assert [str(s) for s in TransferStatus] == ["answered", "declined", "busy", "no-answer", "failed", "canceled",
                                                "completed", "timeout", "unavailable"]
    assert TransferStatus.read("no-answer") is TransferStatus.NO_ANSWER
    assert TransferStatus.read("something new") is TransferStatus.FAILED


def test_a_session_keeps_its_phase_through_json_exactly(flow):
    call = Phone(flow)
    call.start()
    call.press("0")
    session = call.session
    assert session.phase is Phase.TRANSFER
    data = json.loads(json.dumps(session.to_dict()))
    assert data["phase"] == "transfer" and type(data["phase"]) is str
    again = Session.from_dict(data)
    assert again == session and again.phase is Phase.TRANSFER
    assert again.to_dict() == session.to_dict()


def test_a_phase_given_as_a_word_is_read_as_the_phase():
    session = Session(call_sid="CA1", flow="f", flow_version="1", started_at="", phase="listening")
    assert session.phase is Phase.LISTENING
    assert session.evolve(phase="ended").phase is Phase.ENDED
    with pytest.raises(ValueError, match="ringing"):
        session.evolve(phase="ringing")


def test_transfer_records_keep_plain_words(flow):
    call = Phone(flow)
    call.start()
    call.press("0")
    call.transfer("busy")
    call.transfer(TransferStatus.NO_ANSWER)
    assert [type(t["status"]) for t in call.session.transfers] == [str, str]
    assert [t["status"] for t in call.session.transfers] == ["busy", "no-answer"]


@pytest.mark.parametrize("setup, event, phase", [
    ("transfer", DigitsPressed, "transfer"),
    ("listening", TransferResult, "listening"),
    ("listening", LookupResult, "listening"),
])
def test_an_impossible_transition_names_the_phase_and_the_event(flow, setup, event, phase):
    call = Phone(flow)
    call.start()
    if setup == "transfer":
        call.press("0")
    args = {DigitsPressed: ("1",), TransferResult: ("busy",), LookupResult: ("found",)}[event]
    with pytest.raises(engine.UnexpectedEvent) as caught:
        engine.step(flow, call.session, event(call.now, *args))
    assert str(caught.value) == f"{event.__name__} is not expected while the call is in phase '{phase}'"
    assert caught.value.phase is Phase(phase)


def test_an_event_before_the_call_started_says_so(flow):
    with pytest.raises(engine.UnexpectedEvent) as caught:
        engine.step(flow, None, DigitsPressed(Phone(flow).now, "1"))
    assert caught.value.phase is None
    assert str(caught.value) == "DigitsPressed is not expected before the call started"
