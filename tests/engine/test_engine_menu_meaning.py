"""The demo line's main menu understands callers who describe what happened to them
instead of naming an option; a person-only option still needs a clear mention."""
from __future__ import annotations

import pytest
from engine_support import Phone, demo_flow


@pytest.fixture(scope="module")
def flow():
    return demo_flow()


def dial(flow) -> Phone:
    call = Phone(flow)  # T0: a Tuesday morning in New York, the line is open
    call.start()
    assert call.listening_at == "main"
    return call


@pytest.mark.parametrize("said, node, heard", [
    ("my package never showed up", "order", "six digit order number"),
    ("the parcel still hasn't arrived", "order", "six digit order number"),
    ("I was charged twice", "account", "account number"),
    ("I need a refund for a double charge", "account", "account number"),
    ("what time do you close tonight", "store_hours", ""),
])
def test_a_described_situation_reaches_its_option(flow, said, node, heard):
    call = dial(flow)
    call.say(said)
    assert call.session.turns[-1].result == "matched"
    assert node in call.session.path
    if heard:
        assert call.heard(heard)


def test_out_of_scope_is_asked_again(flow):
    call = dial(flow)
    call.say("do you sell gift cards")
    assert call.listening_at == "main"
    assert call.session.turns[-1].result == "no_match"


def test_leaving_without_a_clear_mention_is_not_the_closing_option(flow):
    call = dial(flow)
    call.say("I want to cancel, I'm leaving you")
    assert call.session.turns[-1].intent != "closing an account"


def test_a_clear_mention_of_closing_goes_to_a_person(flow):
    call = dial(flow)
    call.say("I'd like to close my account please")
    assert call.transferring_to is not None
